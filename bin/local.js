// `npm start`. It runs the local platform from its bundle, kept in node_modules/.cache and rebuilt when a source
// file changes (local/runtime-bundle.mjs): the runtime's modules load in about half the CPU they take through tsx,
// and no tsx relay process stands between the terminal and the runtime. When no bundle can be made (no esbuild, a
// read-only checkout), it runs bin/local.ts through tsx's loader, the same program from its sources.
import { runProgram } from '../local/bundle-cache.mjs';
import { cachedRuntimeBundle } from '../local/runtime-bundle.mjs';

await runProgram(cachedRuntimeBundle(), 'bin/local.ts');
