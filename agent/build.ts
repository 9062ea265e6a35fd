import { build } from 'esbuild';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Bundles the worker agent into one file, `dist/agent.mjs`, so a worker instance needs Node 20 and that file:
 * no npm install on the instance, no node_modules in the AMI or user data.
 *
 * ESM output because the code base is ESM; the createRequire banner is there for the CommonJS dependencies inside
 * the bundle (AWS SDK internals) that call require() for Node built-ins, which an ES module does not define.
 *
 * Usage: tsx agent/build.ts [outfile]
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export async function buildAgent(outfile = resolve(root, 'dist/agent.mjs')): Promise<string> {
  await buildAgentWithInputs(outfile);
  return outfile;
}

/** The same build, answering with every file it read (paths relative to the project root), for a cache to check. */
export async function buildAgentWithInputs(outfile: string): Promise<string[]> {
  const { metafile } = await build({
    entryPoints: [resolve(root, 'bin/agent.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    legalComments: 'none',
    logLevel: 'warning',
    metafile: true,
    absWorkingDir: root,
  });
  return Object.keys(metafile.inputs);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outfile = await buildAgent(process.argv[2] ? resolve(process.argv[2]) : undefined);
  console.log(`built ${outfile}`);
}
