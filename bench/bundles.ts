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

/** The AWS SDK as the Lambda runtime provides it: left out of a bundle that takes the runtime's copy. */
const RUNTIME_SDK = ['@aws-sdk/*', '@smithy/*'];

async function bundle(entry: string, outfile: string, external: string[] = []): Promise<void> {
  await build({
    external,
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

/**
 * The size of every function's bundle as the CDK app builds it (minified, source maps apart) and the cold import of
 * the largest; and, as a measure only (the app bundles the SDK it was tested with, see lib/lambda-function.ts), the
 * same bundles with the SDK left to the runtime's copy. Those are written inside the checkout, so their SDK imports
 * resolve to node_modules as the runtime's would to its own.
 */
export async function benchBundles() {
  const dir = mkdtempSync(join(tmpdir(), 'ff-bundles-'));
  const sdkApart = mkdtempSync(join(ROOT, 'node_modules', '.ff-bundles-'));
  try {
    const sizes: Array<{ entry: string; kb: number; file: string; sdkApartKb: number; sdkApartFile: string }> = [];
    for (const entry of entries()) {
      const name = `${basename(dirname(entry))}-${basename(entry, '.ts')}.mjs`;
      const [file, sdkApartFile] = [join(dir, name), join(sdkApart, name)];
      await bundle(entry, file);
      await bundle(entry, sdkApartFile, RUNTIME_SDK);
      sizes.push({ entry, kb: round(statSync(file).size / 1024), file, sdkApartKb: round(statSync(sdkApartFile).size / 1024), sdkApartFile });
    }
    sizes.sort((a, b) => b.kb - a.kb);
    const bare = join(dir, 'bare.mjs');
    writeFileSync(bare, 'export const handler = async () => ({ statusCode: 200 });\n');
    const largest = sizes[0]!;
    return {
      functions: sizes.map(({ entry, kb, sdkApartKb }) => ({ entry, kb, sdkApartKb })),
      largest: largest.entry,
      coldImportMs: round(coldImportMs(largest.file)),
      sdkApartColdImportMs: round(coldImportMs(largest.sdkApartFile)),
      bareImportMs: round(coldImportMs(bare)),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(sdkApart, { recursive: true, force: true });
  }
}
