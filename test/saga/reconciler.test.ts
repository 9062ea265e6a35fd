import { Logger } from '@aws-lambda-powertools/logger';
import { SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DynamoOverdueJobs } from '../../functions/adapters/dynamodb/overdue-jobs.ts';
import { SfnSagaExecutions } from '../../functions/adapters/stepfunctions/saga-executions.ts';
import { JobReconciler } from '../../functions/core/reconciler.ts';
import { QUEUED_OVERDUE_SECONDS } from '../../functions/core/job.ts';
import { waitFor } from '../support/wait.ts';
import type { DispatchMessage } from '../../functions/core/saga-messages.ts';
import { executionArnOf, resumedExecutionName, sagaExecutionName } from '../../functions/declarations/statemachines.ts';
import { createReconcilerHandler, EXECUTION_STATUS_CHANGE } from '../../functions/reconciler/reconcile-events.ts';
import { LOCAL_REGION } from '../../local/dynamodb-local.ts';
import { startJsonProtocolServer, type JsonProtocolServer } from '../../local/json-protocol-server.ts';
import type { LocalStepFunctionsEngine } from '../../local/stepfunctions/engine.ts';
import { stepFunctionsOperations } from '../../local/stepfunctions/operations.ts';
import { createSagaTestbed, SAGA_ARN, type RigOptions } from './harness.ts';

type Testbed = Awaited<ReturnType<typeof createSagaTestbed>>;
type Rig = ReturnType<Testbed['rig']>;

const HOUR_MS = 3600_000;
const throttled = () => Object.assign(new Error('throttled'), { name: 'ProvisionedThroughputExceededException' });

/**
 * The reconciler against the real saga (ASL, steps, DynamoDB Local), its executions read through the AWS adapter
 * over the local Step Functions endpoint: the code that runs in AWS, fed the event AWS sends.
 */
describe('Reconciler: abnormal execution ends and overdue jobs', () => {
  let testbed: Testbed;
  let rig: Rig;
  let server: JsonProtocolServer | undefined;
  let client: SFNClient | undefined;
  /** The reconciler's clock: now, or later for the sweep. */
  let offsetMs = 0;

  beforeAll(async () => {
    testbed = await createSagaTestbed();
  });

  afterEach(async () => {
    client?.destroy();
    await server?.close();
    await rig.engine.close();
    offsetMs = 0;
    // Whatever the path, the tenant's slots all come back and no task is left waiting.
    expect(await rig.slotsInUse()).toBe(0);
    expect(rig.engine.registry.size).toBe(0);
    expect(rig.worker.errors).toEqual([]);
  });

  afterAll(() => undefined);

  async function setUp(options: RigOptions = {}) {
    rig = testbed.rig({ waitScale: 0, ...options });
    server = await startJsonProtocolServer(stepFunctionsOperations(rig.engine as LocalStepFunctionsEngine));
    client = new SFNClient({ endpoint: server.endpoint, region: LOCAL_REGION, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const reconciler = new JobReconciler({
      store: testbed.store,
      saga: rig.saga,
      executions: new SfnSagaExecutions(client, SAGA_ARN),
      overdueJobs: new DynamoOverdueJobs(testbed.tables.documentClient, testbed.tables.tableNames.jobs),
      clock: { now: () => new Date(Date.now() + offsetMs) },
    });
    return createReconcilerHandler(reconciler, new Logger({ logLevel: 'SILENT' }));
  }

  /** What EventBridge delivers for an execution that ended. */
  const statusChange = async (name: string) => {
    const execution = await rig.engine.waitForExecution(executionArnOf(SAGA_ARN, name));
    return { 'detail-type': EXECUTION_STATUS_CHANGE, source: 'aws.states', detail: { name, status: execution.status, error: execution.error ?? null, cause: execution.cause ?? null } };
  };

  const held = async (jobId: string): Promise<DispatchMessage> => {
    const message = await rig.worker.nextDispatch(jobId);
    await rig.worker.reportStarted(message);
    return message;
  };

  it('an aborted execution of a running job: the attempt fails, the run goes on in a new execution, and the job succeeds there', async () => {
    const reconcile = await setUp();
    const jobId = await rig.submit({ command: 'echo hi', maxAttempts: 3 });
    rig.worker.script(jobId, { kind: 'manual' }, { kind: 'succeed' });
    await rig.startSaga(jobId);
    await held(jobId);
    await rig.engine.stopExecution({ executionArn: executionArnOf(SAGA_ARN, sagaExecutionName(jobId, 1)), error: 'Operator', cause: 'stopped by hand' });

    const result = await reconcile(await statusChange(sagaExecutionName(jobId, 1)));

    expect(result).toEqual({ kind: 'execution', name: sagaExecutionName(jobId, 1), outcome: 'resumed' });
    const resumed = resumedExecutionName(jobId, 1, 1);
    expect((await rig.engine.waitForExecution(executionArnOf(SAGA_ARN, resumed))).status).toBe('SUCCEEDED');
    expect(await rig.job(jobId)).toMatchObject({ status: 'SUCCEEDED', attempts: 2, execution: resumed, resumes: 1 });
    expect(await rig.eventTypes(jobId)).toEqual(['JobQueued', 'JobDispatched', 'JobRunning', 'JobRetryScheduled', 'JobDispatched', 'JobRunning', 'JobSucceeded']);
    const failure = (await testbed.outbox(jobId)).find((event) => event.type === 'JobRetryScheduled')!;
    expect(failure.data).toMatchObject({ failure: { reason: 'INFRASTRUCTURE_ERROR' } });
    expect(JSON.stringify(failure.data)).toContain('ended ABORTED (Operator)');

    // The same event again (EventBridge delivers at least once): the run has moved on, nothing changes.
    expect(await reconcile(await statusChange(sagaExecutionName(jobId, 1)))).toMatchObject({ outcome: 'in-order' });
    expect((await rig.eventTypes(jobId)).length).toBe(7);
  });

  it('a success the saga could never record is recorded from the execution history: SUCCEEDED, never run again', async () => {
    const reconcile = await setUp({
      retryIntervalOverrides: { RecordSuccess: 0 },
      wrapSteps: (steps) => ({ ...steps, RecordSuccess: async () => Promise.reject(throttled()) }),
    });
    const jobId = await rig.submit();
    rig.worker.script(jobId, { kind: 'succeed', outputTail: 'the real output\n' });
    await rig.startSaga(jobId);

    const event = await statusChange(sagaExecutionName(jobId, 1));
    expect(event.detail).toMatchObject({ status: 'FAILED', error: 'SuccessNotRecorded' });
    expect(await reconcile(event)).toMatchObject({ outcome: 'success-recorded' });

    expect(await rig.job(jobId)).toMatchObject({ status: 'SUCCEEDED', attempts: 1, slotHeld: false, result: { exitCode: 0, outputTail: 'the real output\n' } });
    expect(rig.worker.received).toHaveLength(1);
    expect(await rig.eventTypes(jobId)).toEqual(['JobQueued', 'JobDispatched', 'JobRunning', 'JobSucceeded']);
  });

  it('a failure path whose RecordFailure kept failing (no Catch) is decided by the reconciler, under the job retry policy', async () => {
    let recordFailures = 5;
    const reconcile = await setUp({
      retryIntervalOverrides: { RecordFailure: 0 },
      wrapSteps: (steps) => ({
        ...steps,
        RecordFailure: async (input) => (recordFailures-- > 0 ? Promise.reject(throttled()) : steps.RecordFailure!(input)),
      }),
    });
    const jobId = await rig.submit({ command: 'false', maxAttempts: 1 });
    rig.worker.script(jobId, { kind: 'fail', error: 'NON_ZERO_EXIT_CODE', cause: { message: 'exit 1', exitCode: 1 } });
    await rig.startSaga(jobId);

    const event = await statusChange(sagaExecutionName(jobId, 1));
    expect(event.detail.status).toBe('FAILED');
    expect(await rig.job(jobId)).toMatchObject({ status: 'RUNNING' });

    // One attempt allowed and it was used: the reconciler's decision ends the job; nothing starts again.
    expect(await reconcile(event)).toMatchObject({ outcome: 'failure-recorded' });
    expect(await rig.job(jobId)).toMatchObject({ status: 'DEAD_LETTERED', attempts: 1, slotHeld: false, stopRequested: true });
    expect(rig.worker.received).toHaveLength(1);
  });

  it('a waiting run whose execution was aborted in its backoff is resumed, and the resumed end is recognised too', async () => {
    const reconcile = await setUp({ waitScale: 1, baseSeconds: 3600, capSeconds: 3600, random: () => 1 });
    const jobId = await rig.submit({ command: 'false', maxAttempts: 3 });
    rig.worker.script(jobId, { kind: 'fail', error: 'NON_ZERO_EXIT_CODE', cause: { message: 'exit 1', exitCode: 1, retryable: true } });
    await rig.startSaga(jobId);
    await rig.engine.waitForState(executionArnOf(SAGA_ARN, sagaExecutionName(jobId, 1)), 'Backoff');
    await rig.engine.stopExecution({ executionArn: executionArnOf(SAGA_ARN, sagaExecutionName(jobId, 1)) });
    expect(await rig.job(jobId)).toMatchObject({ status: 'RETRY_SCHEDULED', attempts: 1 });

    expect(await reconcile(await statusChange(sagaExecutionName(jobId, 1)))).toMatchObject({ outcome: 'resumed' });
    const first = resumedExecutionName(jobId, 1, 1);
    expect((await rig.engine.waitForExecution(executionArnOf(SAGA_ARN, first))).status).toBe('SUCCEEDED');
    expect(await rig.job(jobId)).toMatchObject({ status: 'SUCCEEDED', attempts: 2, execution: first });
  });

  it('the sweep stops the execution of a job held past its overdue time and reconciles it; jobs not yet overdue are left alone', async () => {
    const reconcile = await setUp();
    const overdue = await rig.submit({ command: 'sleep 1', timeoutSeconds: 60, maxAttempts: 1 });
    const fresh = await rig.submit({ command: 'sleep 1', timeoutSeconds: 7200, maxAttempts: 1 });
    rig.worker.script(overdue, { kind: 'silent' });
    rig.worker.script(fresh, { kind: 'silent' });
    await rig.startSaga(overdue);
    await rig.startSaga(fresh);
    await rig.worker.started(overdue);
    await rig.worker.started(fresh);
    expect((await rig.job(overdue)).overdueAt).toBeDefined();

    // An hour later: the first is past its 60 s timeout plus the overdue margin, the second is not.
    offsetMs = HOUR_MS;
    const sweep = await reconcile({});

    expect(sweep).toMatchObject({ kind: 'sweep', outcomes: { 'failure-recorded': 1 } });
    const overdueExecution = await rig.engine.waitForExecution(executionArnOf(SAGA_ARN, sagaExecutionName(overdue, 1)));
    expect(overdueExecution).toMatchObject({ status: 'ABORTED', error: 'Overdue' });
    expect(await rig.job(overdue)).toMatchObject({ status: 'DEAD_LETTERED', slotHeld: false });
    expect(await rig.job(fresh)).toMatchObject({ status: 'RUNNING', slotHeld: true });

    // The abort's own event comes too: already reconciled, nothing happens.
    expect(await reconcile(await statusChange(sagaExecutionName(overdue, 1)))).toMatchObject({ outcome: 'in-order' });
    await rig.engine.stopExecution({ executionArn: executionArnOf(SAGA_ARN, sagaExecutionName(fresh, 1)) });
    expect(await reconcile(await statusChange(sagaExecutionName(fresh, 1)))).toMatchObject({ outcome: 'failure-recorded' });
  });

  it('the sweep starts a queued run whose start was lost, once it is past its overdue time, and it runs', async () => {
    const reconcile = await setUp();
    const lost = await rig.submit({ command: 'echo hi', maxAttempts: 1 });
    rig.worker.script(lost, { kind: 'succeed' });
    expect((await rig.job(lost)).overdueAt).toBe(new Date(Date.parse((await rig.job(lost)).createdAt) + QUEUED_OVERDUE_SECONDS * 1000).toISOString());

    // Not yet overdue: the API's start or the starter's may still be on their way.
    expect(await reconcile({})).toMatchObject({ kind: 'sweep', swept: 0 });
    offsetMs = HOUR_MS;
    expect(await reconcile({})).toMatchObject({ kind: 'sweep', swept: 1, outcomes: { 'start-ensured': 1 } });

    expect((await rig.engine.waitForExecution(executionArnOf(SAGA_ARN, sagaExecutionName(lost, 1)))).status).toBe('SUCCEEDED');
    expect(await rig.job(lost)).toMatchObject({ status: 'SUCCEEDED', attempts: 1 });
    expect(await rig.eventTypes(lost)).toEqual(['JobQueued', 'JobDispatched', 'JobRunning', 'JobSucceeded']);
    expect(await reconcile({})).toMatchObject({ swept: 0 });
  });

  it('the sweep looks once at a run parked for a slot: its execution is found waiting, left alone, and the run leaves the index', async () => {
    const reconcile = await setUp({ slotLimit: 1 });
    const holder = await rig.submit({ command: 'first', timeoutSeconds: 7200, maxAttempts: 1 });
    const waiter = await rig.submit({ command: 'second', maxAttempts: 1 });
    rig.worker.script(holder, { kind: 'manual' });
    await rig.startSaga(holder);
    const holderMessage = await rig.worker.nextDispatch(holder);
    const waiterArn = await rig.startSaga(waiter);
    await rig.engine.waitForState(waiterArn, 'WaitForSlot');
    await waitFor('the second run to park', async () => (await testbed.waiting(rig.actor.tenantId)).length === 1);

    offsetMs = HOUR_MS;
    expect(await reconcile({})).toMatchObject({ kind: 'sweep', swept: 1, outcomes: { 'start-ensured': 1 } });
    expect(await rig.job(waiter)).toMatchObject({ status: 'QUEUED' });
    expect((await rig.job(waiter)).overdueAt).toBeUndefined();
    expect(rig.engine.history(waiterArn).enteredStates).toEqual(['ClaimJob', 'WaitForSlot']);
    expect(await reconcile({})).toMatchObject({ swept: 0 });

    rig.worker.succeed(holderMessage);
    expect(await rig.admitOne()).toEqual({ woken: 1, stale: 0 });
    expect((await rig.engine.waitForExecution(waiterArn)).status).toBe('SUCCEEDED');
  });

  it('refuses what is neither a status change nor a sweep, and ignores executions that are not job runs', async () => {
    const reconcile = await setUp();
    await expect(reconcile({ 'detail-type': 'Something else', detail: {} })).rejects.toThrow(/Not an execution status change/);
    await expect(reconcile({ 'detail-type': EXECUTION_STATUS_CHANGE, detail: { name: 'manual-test', status: 'FAILED' } })).resolves.toMatchObject({ outcome: 'not-a-job-run' });
  });
});
