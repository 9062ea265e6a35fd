import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleNodeProgram } from '../local/bundle-cache.mjs';

/**
 * Bundles the worker agent into one file, `dist/agent.mjs`, so a worker instance needs Node 20 and that file:
 * no npm install on the instance, no node_modules in the AMI or user data. How a program is bundled lives in
 * local/bundle-cache.mjs, shared with the local fleet's cached agent and the CLI.
 *
 * Usage: tsx agent/build.ts [outfile]
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export async function buildAgent(outfile = resolve(root, 'dist/agent.mjs')): Promise<string> {
  await bundleNodeProgram('bin/agent.ts', outfile);
  return outfile;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outfile = await buildAgent(process.argv[2] ? resolve(process.argv[2]) : undefined);
  console.log(`built ${outfile}`);
}
