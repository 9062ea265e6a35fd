import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * What makes a test file an integration test: it reaches, directly or through a test helper, a module that starts
 * DynamoDB Local (Java), the local runtime, or agent and runtime processes. Read from the files' imports, so a new
 * test lands in the right kind without a list to keep; a unit test that reaches DynamoDB some other way fails at
 * once under `npm run test:unit` (no endpoint is provided there) rather than quietly passing.
 */
const INTEGRATION_MODULES = ['test/support/dynamodb.ts', 'test/support/local-process.ts', 'test/agent/agents.ts', 'local/runtime.ts', 'local/dynamodb-local.ts'];

const IMPORT = /(?:from|import)\s+'(\.{1,2}\/[^']+\.ts)'/g;

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return testFiles(path);
    return entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** Whether `file` reaches an integration module through the test helpers it imports (test/ files are followed). */
function reachesIntegration(root: string, file: string, seen = new Set<string>()): boolean {
  if (seen.has(file)) return false;
  seen.add(file);
  for (const [, specifier] of readFileSync(file, 'utf8').matchAll(IMPORT)) {
    const target = resolve(dirname(file), specifier!);
    const path = relative(root, target);
    if (INTEGRATION_MODULES.includes(path)) return true;
    if (path.startsWith('test/') && existsSync(target) && reachesIntegration(root, target, seen)) return true;
  }
  return false;
}

/** Test files relative to `root`, split into unit tests (no Java, no processes) and integration tests. */
export function testKinds(root: string): { unit: string[]; integration: string[] } {
  const unit: string[] = [];
  const integration: string[] = [];
  for (const file of testFiles(join(root, 'test'))) (reachesIntegration(root, file) ? integration : unit).push(relative(root, file));
  return { unit: unit.sort(), integration: integration.sort() };
}
