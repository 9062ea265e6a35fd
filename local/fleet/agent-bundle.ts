import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildAgentWithInputs } from '../../agent/build.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CACHE_DIR = join(ROOT, 'node_modules', '.cache', 'forgeflow-agent');
const BUNDLE = join(CACHE_DIR, 'agent.mjs');
const STAMP = join(CACHE_DIR, 'inputs.json');
/** Not an input of the bundle, but it decides how the bundle is built. */
const BUILD_SCRIPT = 'agent/build.ts';

type Stamp = Record<string, string>;

const stampOf = (paths: readonly string[]): Stamp =>
  Object.fromEntries(
    paths.map((path) => {
      const stat = statSync(join(ROOT, path), { throwIfNoEntry: false });
      return [path, stat ? `${stat.size}:${stat.mtimeMs}` : 'missing'];
    }),
  );

function isCurrent(): boolean {
  let recorded: Stamp;
  try {
    recorded = JSON.parse(readFileSync(STAMP, 'utf8')) as Stamp;
    statSync(BUNDLE);
  } catch {
    return false;
  }
  const now = stampOf(Object.keys(recorded));
  return Object.keys(recorded).length > 0 && Object.entries(recorded).every(([path, mark]) => now[path] === mark);
}

/** Writes through a file of its own and a rename: a process starting an agent reads a whole bundle, old or new. */
function replace(target: string, write: (path: string) => Promise<unknown> | unknown): Promise<void> {
  const temp = `${target}.${process.pid}.${randomUUID()}.tmp`;
  return Promise.resolve(write(temp)).then(() => renameSync(temp, target));
}

async function rebuild(): Promise<string> {
  mkdirSync(CACHE_DIR, { recursive: true });
  let inputs: string[] = [];
  // The bundle goes first, then its stamp: a stamp never vouches for a bundle older than itself.
  await replace(BUNDLE, async (temp) => (inputs = await buildAgentWithInputs(temp)));
  const stamp = stampOf([...inputs, BUILD_SCRIPT]);
  await replace(STAMP, (temp) => writeFileSync(temp, JSON.stringify(stamp)));
  return BUNDLE;
}

let building: Promise<string> | undefined;

/**
 * The agent as the fleet's instances run it: the one-file bundle of agent/build.ts, not bin/agent.ts through tsx.
 * Local workers thus run the artifact a worker instance downloads, and each starts in about a third of the CPU
 * (0.4 s instead of 1.5 s here), which counts when every e2e test and `npm start` launches several. The bundle is
 * kept in node_modules/.cache and rebuilt (about a second) when any file it was built from changed size or mtime,
 * so an edit to the agent reaches the next worker launched, as it did with tsx.
 */
export function currentAgentBundle(): Promise<string> {
  if (isCurrent()) return Promise.resolve(BUNDLE);
  // Launches at the same moment share one build; two processes may both build, and the last rename wins whole.
  building ??= rebuild().finally(() => (building = undefined));
  return building;
}
