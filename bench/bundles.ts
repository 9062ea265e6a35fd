import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { FUNCTION_BUNDLING } from '../lib/lambda-function.ts';
import { round } from './stats.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Every Lambda entry of the CDK app: the handler modules (lib/*-function.ts and the step functions name these). */
function entries(): string[] {
  const handlers = ['functions/api', 'functions/relay', 'functions/reconciler', ...readdirSync(join(ROOT, 'functions/consumers'), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => `functions/consumers/${d.name}`)]
    .map((dir) => `${dir}/handler.ts`)
    .filter((file) => statSync(join(ROOT, file), { throwIfNoEntry: false })?.isFile());
  const steps = ['functions/saga/handlers', 'functions/fleet/handlers'].flatMap((dir) => readdirSync(join(ROOT, dir)).map((f) => `${dir}/${f}`));
  return [...handlers, ...steps];
}

async function bundle(entry: string, outfile: string): Promise<void> {
  await build({
    entryPoints: [join(ROOT, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    minify: FUNCTION_BUNDLING.minify,
    keepNames: FUNCTION_BUNDLING.keepNames,
    mainFields: FUNCTION_BUNDLING.mainFields,
    banner: { js: FUNCTION_BUNDLING.banner ?? '' },
    logLevel: 'silent',
  });
}

/**
 * Milliseconds to import a bundle in a fresh Node process, median of `runs`. The handlers read their configuration
 * at import and refuse to load without it: the measure stops there, after every module was evaluated.
 */
function coldImportMs(file: string, runs = 5): number {
  const script = `const t = performance.now(); try { await import(${JSON.stringify(file)}); } catch {} console.log(performance.now() - t);`;
  const times = Array.from({ length: runs }, () => Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { PATH: process.env.PATH } }).trim()));
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
}

/** The size of every function's bundle as the CDK app builds it (minified, source maps apart) and the cold import of the largest. */
export async function benchBundles() {
  const dir = mkdtempSync(join(tmpdir(), 'ff-bundles-'));
  try {
    const sizes: Array<{ entry: string; kb: number; file: string }> = [];
    for (const entry of entries()) {
      const file = join(dir, `${basename(dirname(entry))}-${basename(entry, '.ts')}.mjs`);
      await bundle(entry, file);
      sizes.push({ entry, kb: round(statSync(file).size / 1024), file });
    }
    sizes.sort((a, b) => b.kb - a.kb);
    const bare = join(dir, 'bare.mjs');
    writeFileSync(bare, 'export const handler = async () => ({ statusCode: 200 });\n');
    const largest = sizes[0]!;
    return { functions: sizes.map(({ entry, kb }) => ({ entry, kb })), largest: largest.entry, coldImportMs: round(coldImportMs(largest.file)), bareImportMs: round(coldImportMs(bare)) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
