// Types for bundle-cache.mjs, which is plain JavaScript so that bin/forgeflow.js can use it before any TypeScript
// loader exists.
import type { BuildOptions } from 'esbuild';

export declare const NODE_PROGRAM_BUNDLING: BuildOptions;
export interface ProgramOptions {
  build?: BuildOptions;
  watch?: readonly string[];
}
export declare function bundleNodeProgram(entry: string, outfile: string, options?: BuildOptions): Promise<string[]>;
export declare function currentBundle(name: string): string | undefined;
export declare function cachedBundle(name: string, entry: string, options?: ProgramOptions): Promise<string>;
export declare function runProgram(bundle: Promise<string>, entry: string): Promise<unknown>;
