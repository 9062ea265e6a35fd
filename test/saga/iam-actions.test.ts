import { describe, expect, it } from 'vitest';
import { DynamoOverdueJobs } from '../../functions/adapters/dynamodb/overdue-jobs.ts';
import type { TaskFailureCause } from '../../functions/core/saga-messages.ts';
import type { TableDefinition } from '../../functions/declarations/tables.ts';
import { COUNTERS_TABLE, JOBS_TABLE, OUTBOX_TABLE } from '../../functions/declarations/tables.ts';
import { SAGA_TABLE_ACCESS } from '../../lib/job-saga.ts';
import { itemActions } from '../../lib/table-access.ts';
import { useSagaTestbed } from './harness.ts';

/** The IAM action each kind of TransactWriteItems item is authorised by. */
const TRANSACT_ITEM_ACTIONS = { Put: 'dynamodb:PutItem', Update: 'dynamodb:UpdateItem', Delete: 'dynamodb:DeleteItem', ConditionCheck: 'dynamodb:ConditionCheckItem' } as const;

type Input = { TableName?: string; TransactItems?: Array<Partial<Record<keyof typeof TRANSACT_ITEM_ACTIONS, { TableName: string }>>>; RequestItems?: Record<string, unknown> };

/** (table, IAM action) for one DynamoDB call: a transaction counts once per item, by the item's own action. */
function actionsOf(commandName: string, input: Input): Array<[string, string]> {
  if (input.TransactItems) {
    return input.TransactItems.flatMap((item) =>
      Object.entries(item).map(([kind, body]) => [body!.TableName, TRANSACT_ITEM_ACTIONS[kind as keyof typeof TRANSACT_ITEM_ACTIONS]] as [string, string]),
    );
  }
  const action = `dynamodb:${commandName.replace(/Command$/, '')}`;
  if (input.RequestItems) return Object.keys(input.RequestItems).map((table) => [table, action]);
  return input.TableName ? [[input.TableName, action]] : [];
}

/**
 * Local DynamoDB checks no IAM, so a grant that misses a call the code makes only fails in AWS. This records, on the
 * wire, what real saga runs ask of each table (a success, a failure retried, a cancel while running, and the
 * reconciler taking a started run out of its index) and checks that lib/job-saga.ts grants all of it to the saga's
 * functions. IAM authorises each item of a TransactWriteItems by its own action: an Update inside a transaction
 * needs dynamodb:UpdateItem.
 */
describe('IAM for the saga functions', () => {
  const bed = useSagaTestbed();

  it('grants every DynamoDB action real saga runs make, on each table', async () => {
    const testbed = bed.testbed();
    const rig = bed.rig({ waitScale: 0 });
    const tables = new Map<string, TableDefinition>([
      [testbed.tables.tableNames.jobs, JOBS_TABLE],
      [testbed.tables.tableNames.outbox, OUTBOX_TABLE],
      [testbed.tables.tableNames.counters, COUNTERS_TABLE],
    ]);
    const used = new Map<TableDefinition, Set<string>>();
    let recording = false;
    const name = 'iamActionRecorder';
    testbed.tables.documentClient.middlewareStack.add(
      (next, context) => async (args) => {
        if (recording) {
          for (const [table, action] of actionsOf(context.commandName ?? '', args.input as Input)) {
            const definition = tables.get(table);
            if (!definition) throw new Error(`The saga touched ${table}, which lib/job-saga.ts does not grant`);
            used.set(definition, (used.get(definition) ?? new Set()).add(action));
          }
        }
        return next(args);
      },
      { step: 'initialize', name },
    );
    try {
      // Submits and cancels are the api's, with its own grants: only what the saga does is recorded.
      const ok = await rig.submit({ command: 'echo ok', maxAttempts: 1 });
      const flaky = await rig.submit({ command: 'exit 1', maxAttempts: 2 });
      const cancelled = await rig.submit({ command: 'sleep 60', maxAttempts: 1 });
      const lost = await rig.submit({ command: 'echo lost', maxAttempts: 1 });
      const cause: TaskFailureCause = { message: 'exit 1', exitCode: 1, durationMs: 3, outputTail: 'no' };
      rig.worker.script(ok, { kind: 'succeed' });
      rig.worker.script(flaky, { kind: 'fail', error: 'NON_ZERO_EXIT_CODE', cause }, { kind: 'succeed' });
      rig.worker.script(cancelled, { kind: 'manual' });
      recording = true;
      expect((await rig.run(ok)).status).toBe('SUCCEEDED');
      expect((await rig.run(flaky)).status).toBe('SUCCEEDED');
      // A cancel accepted while it runs: the task fails CANCELLED and the saga compensates and records the end.
      const arn = await rig.startSaga(cancelled);
      const message = await rig.worker.nextDispatch(cancelled);
      await rig.worker.reportStarted(message);
      recording = false;
      await testbed.jobs.cancel(rig.actor, cancelled, 'test');
      recording = true;
      rig.worker.fail(message, 'CANCELLED', { message: 'cancelled', exitCode: null, durationMs: 1, outputTail: '' });
      expect((await rig.engine.waitForExecution(arn)).status).toBe('SUCCEEDED');
      expect(await rig.job(cancelled)).toMatchObject({ status: 'CANCELLED' });
      await new DynamoOverdueJobs(testbed.tables.documentClient, testbed.tables.tableNames.jobs).clearQueuedDue(lost, 1);
    } finally {
      recording = false;
      testbed.tables.documentClient.middlewareStack.remove(name);
    }

    expect(used.get(JOBS_TABLE)).toContain('dynamodb:UpdateItem');
    for (const [definition, actions] of used) {
      const access = SAGA_TABLE_ACCESS.get(definition)!;
      const granted = new Set((Array.isArray(access) ? access : [access]).flatMap((level) => itemActions(level)));
      expect([...actions].filter((action) => !granted.has(action)), `${definition.id}: used but not granted`).toEqual([]);
    }
  });
});
