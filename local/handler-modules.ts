/**
 * Loads a Lambda handler's module for the local runtime: here, its source through the TypeScript loader, a fresh
 * instance per URL (local/lambda.ts adds the instance to it). `npm start` runs from a bundle (local/runtime-bundle.mjs)
 * whose build swaps this module for one that loads the handler from inside the bundle.
 */
export function loadHandlerModule(source: URL): Promise<unknown> {
  return import(source.href);
}
