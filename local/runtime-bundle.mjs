// @ts-check
// Plain JavaScript, not TypeScript: bin/local.js builds or finds `npm start`'s bundle before any TypeScript loader
// exists, which is the point (through tsx, loading the runtime's modules took about 3.2 CPU-seconds of every start;
// from the bundle, about 1.6).
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cachedBundle, NODE_PROGRAM_BUNDLING } from './bundle-cache.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Where the bundle lands (local/bundle-cache.mjs places a bundle named N at node_modules/.cache/N/bundle.mjs). */
const BUNDLE_NAME = 'forgeflow-local';
const BUNDLE_DEPTH = '../../../';
/** The module whose source form loads a handler through the TypeScript loader; the bundle swaps it (see below). */
const HANDLER_LOADER = 'local/handler-modules.ts';

/**
 * What the local runtime may load as a Lambda handler (local/lambda.ts importHandler checks it): a `handler.ts` or
 * `*-handler.ts` under functions/, or a file in a `handlers` folder there. One rule, so that the bundle holds every
 * handler the runtime can ask for, and a handler named otherwise fails in the tests, not only under `npm start`.
 * @param {string} path relative to the project root
 */
export function isHandlerModule(path) {
  return /^functions\/(?:[\w-]+\/)*(?:[\w-]+-)?handler\.ts$/.test(path) || /^functions\/(?:[\w-]+\/)*handlers\/[\w-]+\.ts$/.test(path);
}

/** Every folder under functions/, relative to the root: a handler added to one moves its mtime. */
function functionFolders() {
  return readdirSync(join(ROOT, 'functions'), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => relative(ROOT, join(entry.parentPath, entry.name)))
    .concat('functions');
}

/** @returns {string[]} */
function handlerModules() {
  return readdirSync(join(ROOT, 'functions'), { recursive: true, encoding: 'utf8' })
    .map((path) => `functions/${path}`)
    .filter(isHandlerModule)
    .sort();
}

/**
 * The loader module as the bundle has it: every handler module is in the bundle, reached by a dynamic import that
 * esbuild keeps lazy, so a handler's module still runs (and reads its configuration) only once the runtime has set
 * its environment. One runtime runs in `npm start`'s process, so a handler is loaded once, as in a Lambda
 * environment; tests that start several runtimes in one process load the sources, each start its own instance.
 */
function bundledLoaderSource() {
  const cases = handlerModules().map((path) => `  ${JSON.stringify(path)}: () => import(${JSON.stringify(join(ROOT, path))}),`);
  return [
    "import { relative } from 'node:path';",
    "import { fileURLToPath } from 'node:url';",
    `const ROOT = fileURLToPath(new URL(${JSON.stringify(BUNDLE_DEPTH)}, ${BUNDLE_URL}));`,
    `const modules = {\n${cases.join('\n')}\n};`,
    'export function loadHandlerModule(source) {',
    '  const path = relative(ROOT, fileURLToPath(source));',
    '  const load = modules[path];',
    "  if (!load) throw new Error(`${path} is not a handler module of npm start's bundle (local/runtime-bundle.mjs)`);",
    '  return load();',
    '}',
  ].join('\n');
}

/** The bundle's own URL, set by its first line, from which each source's URL is rebuilt. */
const BUNDLE_URL = '__forgeflowBundleUrl';
/** What `import.meta.url` becomes in each source: its own URL, declared at the top of that source. */
const SOURCE_URL = '__forgeflowSourceUrl';

/**
 * Sources that find files beside themselves (`new URL('./x', import.meta.url)`: DynamoDB Local's watchdog, the state
 * machines' ASL, the console's assets, the cache's own root) would look beside the bundle instead. esbuild's define
 * turns `import.meta.url` (as code, never inside a string) into a name each such source declares as its own URL,
 * relative to the bundle, so a moved checkout still works.
 * @type {import('esbuild').Plugin}
 */
const runtimeSources = {
  name: 'forgeflow-runtime-sources',
  setup(build) {
    build.onLoad({ filter: /\.(ts|mjs)$/ }, (args) => {
      const path = relative(ROOT, args.path);
      if (path === HANDLER_LOADER) return { contents: bundledLoaderSource(), loader: 'js' };
      const source = readFileSync(args.path, 'utf8');
      const own = `const ${SOURCE_URL} = new URL(${JSON.stringify(BUNDLE_DEPTH + path)}, ${BUNDLE_URL}).href;\n`;
      return { contents: source.includes('import.meta.url') ? own + source : source, loader: extname(args.path) === '.ts' ? 'ts' : 'js' };
    });
  },
};

export const RUNTIME_BUNDLING = {
  packages: /** @type {const} */ ('external'),
  plugins: [runtimeSources],
  define: { 'import.meta.url': SOURCE_URL },
  banner: { js: `${NODE_PROGRAM_BUNDLING.banner?.js ?? ''}\nconst ${BUNDLE_URL} = import.meta.url;` },
};

/**
 * `npm start`'s program, bin/local.ts with every handler module, as one file kept in node_modules/.cache and rebuilt
 * when a file it was built from changes, or a handler is added. Packages stay outside it, loaded from node_modules as
 * they are by the tests: one copy of each, so a module patched at run time (fauxqs's queue in local/sqs-wait-timer.ts)
 * is the one in use.
 * @returns {Promise<string>}
 */
export function cachedRuntimeBundle() {
  return cachedBundle(BUNDLE_NAME, 'bin/local.ts', { build: RUNTIME_BUNDLING, watch: functionFolders() });
}
