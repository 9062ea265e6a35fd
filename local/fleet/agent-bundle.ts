import { cachedBundle } from '../bundle-cache.mjs';

/**
 * The agent as the fleet's instances run it: the one-file bundle of bin/agent.ts (as agent/build.ts makes it), not
 * bin/agent.ts through tsx. Local workers thus run the artifact a worker instance downloads, and each starts in about
 * a third of the CPU (0.4 s instead of 1.5 s here), which counts when every e2e test and `npm start` launches several.
 * It is rebuilt when a file it was built from changes, so an edit to the agent reaches the next worker launched.
 */
export function currentAgentBundle(): Promise<string> {
  return cachedBundle('forgeflow-agent', 'bin/agent.ts');
}
