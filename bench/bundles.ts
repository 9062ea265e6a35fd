import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { HTTP_FUNCTIONS } from '../functions/declarations/http-functions.ts';
import { FUNCTION_BUNDLING } from '../lib/function-code.ts';
import { round } from './stats.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Every Lambda entry of the CDK app: the handler modules (lib/*-function.ts and the step functions name these). */
function entries(): string[] {
  const http = Object.values(HTTP_FUNCTIONS).map((fn) => fn.entry);
  const handlers = ['functions/relay', 'functions/reconciler', ...readdirSync(join(ROOT, 'functions/consumers'), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => `functions/consumers/${d.name}`)]
    .map((dir) => `${dir}/handler.ts`)
    .filter((file) => statSync(join(ROOT, file), { throwIfNoEntry: false })?.isFile());
  const steps = ['functions/saga/handlers', 'functions/fleet/handlers'].flatMap((dir) => readdirSync(join(ROOT, dir)).map((f) => `${dir}/${f}`));
  return [...http, ...handlers, ...steps];
}

async function bundle(entry: string, outfile: string): Promise<void> {
  // Without the source map the app adds beside each bundle: the figure is the code a cold start loads.
  await build({ ...FUNCTION_BUNDLING, sourcemap: false, entryPoints: [join(ROOT, entry)], outfile, target: 'node20', logLevel: 'silent' });
}

/**
 * Milliseconds to import a module in a fresh Node process, median of `runs`. The handlers read their configuration
 * at import and refuse to load without it: the measure stops there, after every module was evaluated.
 */
function coldImportMs(file: string, runs = 5): number {
  const script = `const t = performance.now(); try { await import(${JSON.stringify(file)}); } catch {} console.log(performance.now() - t);`;
  // The functions run on a Node the SDK supports; on this machine's Node 20 it warns once a process (ten lines each).
  const env = { PATH: process.env.PATH, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
  const times = Array.from({ length: runs }, () => Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env }).trim()));
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
}

/** Two yardsticks: a handler that does nothing, and one that makes the single DynamoDB client a handler needs. */
const BARE_HANDLERS = {
  bare: 'export const handler = async () => ({ statusCode: 200 });\n',
  bareWithSdk: "import { DynamoDBClient } from '@aws-sdk/client-dynamodb';\nconst client = new DynamoDBClient({});\nexport const handler = async () => ({ statusCode: 200, client: typeof client });\n",
};

/**
 * The size of every function's bundle as the CDK app builds it (minified, source maps apart, the runtime's AWS SDK
 * left out) and the cold import of each. The bundles are written inside the checkout, so their SDK imports resolve
 * to node_modules as the runtime's resolve to its own copy, and the import time includes loading the SDK.
 */
export async function benchBundles() {
  const dir = mkdtempSync(join(ROOT, 'node_modules', '.ff-bundles-'));
  try {
    const functions: Array<{ entry: string; kb: number; coldImportMs: number }> = [];
    for (const entry of entries()) {
      const file = join(dir, `${basename(dirname(entry))}-${basename(entry, '.ts')}.mjs`);
      await bundle(entry, file);
      // Five runs, as for the yardsticks: with three, one run on a loaded machine read the slowest at 2.5× and a rerun 1.7×.
      functions.push({ entry, kb: round(statSync(file).size / 1024), coldImportMs: round(coldImportMs(file)) });
    }
    functions.sort((a, b) => b.kb - a.kb);
    const yardsticks = Object.fromEntries(
      Object.entries(BARE_HANDLERS).map(([name, code]) => {
        const file = join(dir, `${name}.mjs`);
        writeFileSync(file, code);
        return [name, round(coldImportMs(file))];
      }),
    ) as Record<keyof typeof BARE_HANDLERS, number>;
    const largest = functions[0]!;
    const slowest = [...functions].sort((a, b) => b.coldImportMs - a.coldImportMs)[0]!;
    return { functions, largest: largest.entry, coldImportMs: round(coldImportMs(join(dir, `${basename(dirname(largest.entry))}-${basename(largest.entry, '.ts')}.mjs`))), slowest, ...yardsticks };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
