// Types for runtime-bundle.mjs, which is plain JavaScript so that bin/local.js can use it before any TypeScript
// loader exists.
export declare function isHandlerModule(path: string): boolean;
export declare function cachedRuntimeBundle(): Promise<string>;
export declare const RUNTIME_BUNDLING: import('esbuild').BuildOptions;
