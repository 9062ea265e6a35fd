// @ts-check
// Plain JavaScript, not TypeScript: bin/forgeflow.js checks for a current bundle before it has any TypeScript loader,
// which is the whole point (loading tsx and transpiling the CLI took about 0.7 s of every invocation).
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CACHE_ROOT = join(ROOT, 'node_modules', '.cache');
/** Not an input of any bundle, but it decides how every bundle is built. */
const BUILD_RULES = 'local/bundle-cache.mjs';

/**
 * How a Node program becomes one ES module file. ESM because the code base is ESM; the createRequire banner is there
 * for the CommonJS dependencies inside the bundle (AWS SDK internals) that call require() for Node built-ins, which an
 * ES module does not define. JSON imports are inlined, so the file needs nothing beside it.
 * @type {import('esbuild').BuildOptions}
 */
export const NODE_PROGRAM_BUNDLING = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  legalComments: 'none',
  logLevel: 'warning',
};

/**
 * What a program's bundle adds to NODE_PROGRAM_BUNDLING: esbuild options of its own (plugins, external packages), and
 * `watch`, paths besides the files it was built from whose change also makes it stale (a folder, whose mtime moves when
 * a file is added to it).
 * @typedef {{ build?: import('esbuild').BuildOptions, watch?: readonly string[] }} ProgramOptions
 */

/**
 * Bundles `entry` (relative to the project root) into `outfile`; answers with every file it read, relative to the root.
 * @param {string} entry
 * @param {string} outfile
 * @param {import('esbuild').BuildOptions} [options]
 * @returns {Promise<string[]>}
 */
export async function bundleNodeProgram(entry, outfile, options = {}) {
  // Loaded here, not at the top: the fast path (a current bundle) never needs esbuild.
  const { build } = await import('esbuild');
  const { metafile } = await build({ ...NODE_PROGRAM_BUNDLING, ...options, entryPoints: [join(ROOT, entry)], outfile, metafile: true, absWorkingDir: ROOT });
  return Object.keys(metafile.inputs);
}

/** @param {readonly string[]} paths @returns {Record<string, string>} */
const stampOf = (paths) =>
  Object.fromEntries(
    paths.map((path) => {
      const stat = statSync(join(ROOT, path), { throwIfNoEntry: false });
      return [path, stat ? `${stat.size}:${stat.mtimeMs}` : 'missing'];
    }),
  );

/** @param {string} name */
const placeOf = (name) => ({ dir: join(CACHE_ROOT, name), bundle: join(CACHE_ROOT, name, 'bundle.mjs'), stamp: join(CACHE_ROOT, name, 'inputs.json') });

/**
 * The cached bundle named `name`, if every file it was built from still has the size and mtime it had then.
 * @param {string} name
 * @returns {string | undefined}
 */
export function currentBundle(name) {
  const { bundle, stamp } = placeOf(name);
  /** @type {Record<string, string>} */
  let recorded;
  try {
    recorded = JSON.parse(readFileSync(stamp, 'utf8'));
    statSync(bundle);
  } catch {
    return undefined;
  }
  const now = stampOf(Object.keys(recorded));
  const current = Object.keys(recorded).length > 0 && Object.entries(recorded).every(([path, mark]) => now[path] === mark);
  return current ? bundle : undefined;
}

/**
 * Writes through a file of its own and a rename: a process starting the program reads a whole bundle, old or new.
 * @param {string} target
 * @param {(path: string) => unknown} write
 */
async function replace(target, write) {
  const temp = `${target}.${process.pid}.${randomUUID()}.tmp`;
  await write(temp);
  renameSync(temp, target);
}

/** @type {Map<string, Promise<string>>} */
const building = new Map();

/**
 * The one-file bundle of `entry`, kept in node_modules/.cache/`name` and rebuilt (about a second) when any file it was
 * built from changed size or mtime: an edit reaches the next start, as it would through tsx, and every other start
 * runs plain node on one file. Builds asked for at once in one process share one build; two processes may both
 * build, and the last rename wins whole. The bundle goes first, then its stamp: a stamp never vouches for an older
 * bundle.
 * @param {string} name
 * @param {string} entry
 * @param {ProgramOptions} [options]
 * @returns {Promise<string>}
 */
export function cachedBundle(name, entry, options = {}) {
  const ready = currentBundle(name);
  if (ready) return Promise.resolve(ready);
  let pending = building.get(name);
  if (!pending) {
    const { dir, bundle, stamp } = placeOf(name);
    pending = (async () => {
      mkdirSync(dir, { recursive: true });
      /** @type {string[]} */
      let inputs = [];
      await replace(bundle, async (temp) => (inputs = await bundleNodeProgram(entry, temp, options.build)));
      const marks = stampOf([...inputs, ...(options.watch ?? []), BUILD_RULES]);
      await replace(stamp, (temp) => writeFileSync(temp, JSON.stringify(marks)));
      return bundle;
    })().finally(() => building.delete(name));
    building.set(name, pending);
  }
  return pending;
}

/**
 * Runs a program in this process from its cached bundle, or, when none can be built (no esbuild, a read-only
 * checkout), from `entry` through tsx's loader: the same program either way, with this process's signals and exit
 * code, and no relay process.
 * @param {Promise<string>} bundle
 * @param {string} entry relative to the project root
 * @returns {Promise<unknown>}
 */
export async function runProgram(bundle, entry) {
  const built = await bundle.catch(() => undefined);
  if (built) return import(pathToFileURL(built).href);
  const { register } = await import('tsx/esm/api');
  register();
  return import(pathToFileURL(join(ROOT, entry)).href);
}
