import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { JOB_SAGA, PROVISION_WORKER } from '../../functions/declarations/statemachines.ts';
import { FUNCTION_BUNDLING } from '../../lib/function-code.ts';

const root = join(import.meta.dirname, '..', '..');

/** Every error name a Retry or Catch of our state machines matches, except the ones Step Functions and Lambda raise. */
function matchedErrorNames(): string[] {
  const names = new Set<string>();
  for (const path of [JOB_SAGA.definitionPath, PROVISION_WORKER.definitionPath]) {
    const definition = JSON.parse(readFileSync(path, 'utf8')) as { States: Record<string, { Retry?: { ErrorEquals: string[] }[]; Catch?: { ErrorEquals: string[] }[] }> };
    for (const state of Object.values(definition.States)) {
      for (const rule of [...(state.Retry ?? []), ...(state.Catch ?? [])]) for (const name of rule.ErrorEquals) names.add(name);
    }
  }
  return [...names].filter((name) => !name.startsWith('States.') && !name.startsWith('Lambda.')).sort();
}

/**
 * The errors the step Lambdas throw, bundled exactly as the CDK app bundles the functions (minified, with the same
 * flags): the names Step Functions sees in AWS are the bundle's, not the TypeScript source's.
 */
describe('Error names in the bundled Lambda code', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ff-bundle-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('every error name the state machines match is the name a bundled step throws', async () => {
    const entry = join(dir, 'entry.ts');
    writeFileSync(
      entry,
      [
        `import { ConcurrentModificationError, IllegalTransitionError, JobNotFoundError } from ${JSON.stringify(join(root, 'functions/core/errors.ts'))};`,
        `import { JobNotClaimableError, NoCapacityError } from ${JSON.stringify(join(root, 'functions/core/saga-errors.ts'))};`,
        `import { NoWaitNeededError } from ${JSON.stringify(join(root, 'functions/core/admission.ts'))};`,
        `import { WorkerConflictError, WorkerNotFoundError } from ${JSON.stringify(join(root, 'functions/core/fleet/errors.ts'))};`,
        `import { ProvisioningError, PROVISIONING_FAILURE_REASONS } from ${JSON.stringify(join(root, 'functions/core/fleet/provisioning-failures.ts'))};`,
        `import { WorkerNotProvisionableError } from ${JSON.stringify(join(root, 'functions/core/fleet/provisioning.ts'))};`,
        'export const thrown = [new ConcurrentModificationError("j"), new IllegalTransitionError("A", "B"), new JobNotFoundError("j"), new JobNotClaimableError("j", "r"), new NoCapacityError("t"), new NoWaitNeededError("n"),',
        '  new WorkerConflictError("w"), new WorkerNotFoundError("w"), new WorkerNotProvisionableError("w"),',
        '  ...PROVISIONING_FAILURE_REASONS.map((reason) => new ProvisioningError(reason, "m"))].map((error) => error.name);',
      ].join('\n'),
    );
    const outfile = join(dir, 'bundle.mjs');
    await build({ ...FUNCTION_BUNDLING, entryPoints: [entry], outfile, logLevel: 'silent' });
    const { thrown } = (await import(pathToFileURL(outfile).href)) as { thrown: string[] };
    for (const name of matchedErrorNames()) expect(thrown, `no bundled error is named ${name}`).toContain(name);
  });
});
