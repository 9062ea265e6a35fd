#!/usr/bin/env node
// The `forgeflow` bin. It runs the CLI's one-file bundle, kept in node_modules/.cache and rebuilt when a source file
// changes (local/bundle-cache.mjs): a command starts in about 0.15 s, against 0.7 s through tsx. When no bundle can be
// made (no esbuild, a read-only checkout), it runs the TypeScript through tsx's loader, so `npx forgeflow` works in a
// checkout either way. Both run in this process: signals and exit codes are the CLI's own, with no relay process.
import { cachedBundle, runProgram } from '../local/bundle-cache.mjs';

await runProgram(cachedBundle('forgeflow-cli', 'bin/forgeflow.ts'), 'bin/forgeflow.ts');
