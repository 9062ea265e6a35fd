import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/** Modules that start a whole local runtime or `npm start`: files of 20 to 60 s each. */
const RUNTIME_MODULES = ['test/support/local-process.ts', 'local/runtime.ts'];
/** The agent tests' helper, which starts agent processes: files of about 10 s. */
const AGENT_MODULES = ['test/agent/agents.ts'];
/** The local SQS event source mapping, whose tests wait out real visibility timeouts: files of 10 to 20 s, unit ones too. */
const POLLER_MODULES = ['local/sqs-poller.ts'];
/**
 * What makes a test file an integration test: it reaches, directly or through a test helper, a module that starts
 * DynamoDB Local (Java), the local runtime, or agent and runtime processes. Read from the files' imports, so a new
 * test lands in the right kind without a list to keep; a unit test that reaches DynamoDB some other way fails at
 * once under `npm run test:unit` (no endpoint is provided there) rather than quietly passing.
 */
const INTEGRATION_MODULES = ['test/support/dynamodb.ts', 'local/dynamodb-local.ts', ...RUNTIME_MODULES, ...AGENT_MODULES];

const IMPORT = /(?:from|import)\s+'(\.{1,2}\/[^']+\.ts)'/g;

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return testFiles(path);
    return entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** The modules (relative to `root`) that `file` imports, directly or through the test helpers it imports. */
function reachedModules(root: string, file: string, reached = new Set<string>()): Set<string> {
  for (const [, specifier] of readFileSync(file, 'utf8').matchAll(IMPORT)) {
    const target = resolve(dirname(file), specifier!);
    const path = relative(root, target);
    if (reached.has(path)) continue;
    reached.add(path);
    if (path.startsWith('test/') && existsSync(target)) reachedModules(root, target, reached);
  }
  return reached;
}

/** Whole-platform runs (faults, crash recovery, the fleet): files of 25 to 40 s, the suite's longest. */
const END_TO_END_FOLDER = 'test/e2e/';

/**
 * Test files relative to `root`, split into unit tests (no Java, no processes) and integration tests; of these,
 * `endToEnd` are the files under test/e2e/, `runtimes` start a local runtime or `npm start`, `agents` start agent
 * processes and `pollers` drive the local SQS event source mapping, of either kind (test/support/sequencer.ts runs
 * them first when it knows no better).
 */
export function testKinds(root: string) {
  const kinds = { unit: [] as string[], integration: [] as string[], endToEnd: [] as string[], runtimes: [] as string[], agents: [] as string[], pollers: [] as string[] };
  for (const file of testFiles(join(root, 'test'))) {
    const path = relative(root, file);
    const reached = reachedModules(root, file);
    const reachesAny = (modules: readonly string[]) => modules.some((module) => reached.has(module));
    kinds[reachesAny(INTEGRATION_MODULES) ? 'integration' : 'unit'].push(path);
    if (path.startsWith(END_TO_END_FOLDER)) kinds.endToEnd.push(path);
    else if (reachesAny(RUNTIME_MODULES)) kinds.runtimes.push(path);
    else if (reachesAny(AGENT_MODULES)) kinds.agents.push(path);
    else if (reachesAny(POLLER_MODULES)) kinds.pollers.push(path);
  }
  for (const list of Object.values(kinds)) list.sort();
  return kinds;
}

export type TestKinds = ReturnType<typeof testKinds>;
