// Types for bundle-cache.mjs, which is plain JavaScript so that bin/forgeflow.js can use it before any TypeScript
// loader exists.
import type { BuildOptions } from 'esbuild';

export declare const NODE_PROGRAM_BUNDLING: BuildOptions;
export declare function bundleNodeProgram(entry: string, outfile: string): Promise<string[]>;
export declare function currentBundle(name: string): string | undefined;
export declare function cachedBundle(name: string, entry: string): Promise<string>;
