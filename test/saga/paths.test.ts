import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { dispatchPayloadBytes, LIMITS, toJobResource } from '../../functions/core/job.ts';
import { COMPENSATION_ORDER } from '../../functions/core/saga.ts';
import { dispatchQueue } from '../../functions/declarations/workers.ts';
import { waitFor } from '../support/wait.ts';
import { createSagaTestbed, testQueueUrl } from './harness.ts';

type Testbed = Awaited<ReturnType<typeof createSagaTestbed>>;
type Rig = ReturnType<Testbed['rig']>;

/** Every failure path runs the undos last-in first-out: the dispatch's, then the claim's, then the decision. */
function expectCompensatedInOrder(entered: string[]) {
  const starts = entered.flatMap((state, index) => (state === 'Categorize' ? [index] : []));
  expect(starts.length).toBeGreaterThan(0);
  for (const start of starts) {
    expect(entered.slice(start + 1, start + 4)).toEqual([...COMPENSATION_ORDER, 'RecordFailure']);
  }
  expect(COMPENSATION_ORDER).toEqual(['StopWorkerProcess', 'ReleaseSlot']);
}

describe('Job saga: every path, real ASL, real steps, DynamoDB Local', () => {
  let testbed: Testbed;
  let rig: Rig;

  beforeAll(async () => {
    testbed = await createSagaTestbed();
  });

  afterEach(async () => {
    await rig.engine.close();
    // Every path gives the tenant's slot back and leaves no task waiting for an answer.
    expect(await rig.slotsInUse()).toBe(0);
    expect(rig.engine.registry.size).toBe(0);
    expect(rig.worker.errors).toEqual([]);
  });

  it('succeeds in 2 state transitions: ClaimJob (the claim, its dispatch and the wait), RecordSuccess', async () => {
    rig = testbed.rig();
    // A command array: the ASL passes it through to the dispatch message as it is.
    const jobId = await rig.submit({ command: ['echo', 'hi'], priority: 'high', env: { A: '1' } });

    const execution = await rig.run(jobId);

    expect(execution.status).toBe('SUCCEEDED');
    const job = await rig.job(jobId);
    expect(job).toMatchObject({ status: 'SUCCEEDED', attempts: 1, workerId: 'worker-1', slotHeld: false, result: { exitCode: 0, durationMs: 12, outputTail: 'done\n' } });
    expect(job.taskToken).toBeUndefined();
    expect(job.finishedAt).toBeDefined();
    expect(Object.keys(toJobResource(job))).not.toEqual(expect.arrayContaining(['taskToken']));
    expect(toJobResource(job)).not.toHaveProperty('slotHeld');
    expect(await rig.eventTypes(jobId)).toEqual(['JobQueued', 'JobDispatched', 'JobRunning', 'JobSucceeded']);
    const history = rig.engine.history(execution.executionArn);
    expect(history.enteredStates).toEqual(['ClaimJob', 'RecordSuccess']);
    expect(history.transitions).toBe(2);
    expect(rig.worker.received).toHaveLength(1);
    expect(rig.worker.received[0]).toMatchObject({
      queueUrl: testQueueUrl(dispatchQueue('default', 'high')),
      message: { jobId, tenantId: rig.actor.tenantId, run: 1, attempt: 1, command: ['echo', 'hi'], args: [], env: { A: '1' }, timeoutSeconds: 3600, workerClass: 'default', priority: 'high' },
    });
  });

  it('a success that cannot be recorded at once is retried until it lands, and the job never runs again', async () => {
    let failures = 3;
    rig = testbed.rig({
      retryIntervalOverrides: { RecordSuccess: 0 },
      wrapSteps: (steps) => ({
        ...steps,
        RecordSuccess: async (input) => {
          if (failures-- > 0) throw Object.assign(new Error('throttled'), { name: 'ProvisionedThroughputExceededException' });
          return steps.RecordSuccess!(input);
        },
      }),
    });
    const jobId = await rig.submit();
    const execution = await rig.run(jobId);
    expect(execution.status).toBe('SUCCEEDED');
    expect(await rig.job(jobId)).toMatchObject({ status: 'SUCCEEDED', attempts: 1 });
    expect(rig.worker.received).toHaveLength(1);
    expect(rig.engine.history(execution.executionArn).enteredStates).toEqual(['ClaimJob', 'RecordSuccess']);
  });

  it('a success that can never be recorded fails the execution visibly: no retry is scheduled, nothing is dispatched again', async () => {
    rig = testbed.rig({
      retryIntervalOverrides: { RecordSuccess: 0 },
      wrapSteps: (steps) => ({
        ...steps,
        RecordSuccess: async () => {
          throw Object.assign(new Error('gone'), { name: 'InternalServerError' });
        },
      }),
    });
    const jobId = await rig.submit();
    const execution = await rig.run(jobId);
    expect(execution).toMatchObject({ status: 'FAILED', error: 'SuccessNotRecorded' });
    expect(rig.engine.history(execution.executionArn).enteredStates).toEqual(['ClaimJob', 'RecordSuccess', 'SuccessNotRecorded']);
    expect(rig.worker.received).toHaveLength(1);
    expect(await rig.eventTypes(jobId)).not.toContain('JobRetryScheduled');
    // The job stays as the worker left it, for the reconciler; its slot is released by hand here (afterEach checks it).
    const job = await rig.job(jobId);
    expect(job.status).toBe('RUNNING');
    await rig.saga.releaseSlot({ jobId, run: 1 });
  });

  it('the largest accepted job with the largest failure cause stays within the 256 KB state limit on every path', async () => {
    rig = testbed.rig({ random: () => 0, waitScale: 0.01 });
    // Just under the dispatch payload limit: an 8 KB command that reads its args, six 8 KB args, env filling the rest.
    const spec = { command: `${'c'.repeat(8187)} "$@"`, args: Array.from({ length: 6 }, () => 'a'.repeat(8192)), env: { BIG: 'e'.repeat(8000) }, maxAttempts: 2 };
    expect(dispatchPayloadBytes(spec)).toBeLessThanOrEqual(LIMITS.dispatchPayloadBytes);
    const jobId = await rig.submit(spec);
    // The largest cause an agent sends: just under 32,768 characters, its tail control characters (six each in JSON).
    const cause = { message: 'exit 1', exitCode: 1, durationMs: 5, outputTail: '\u0001'.repeat(5400) };
    expect(JSON.stringify(cause).length).toBeLessThanOrEqual(32_768);
    rig.worker.script(jobId, { kind: 'fail', error: 'NON_ZERO_EXIT_CODE', cause }, { kind: 'fail', error: 'NON_ZERO_EXIT_CODE', cause });

    const execution = await rig.run(jobId);

    expect(execution.status).toBe('SUCCEEDED');
    expect(await rig.job(jobId)).toMatchObject({ status: 'DEAD_LETTERED', attempts: 2 });
  });

  it('retries a retryable failure after the backoff Wait, then succeeds', async () => {
    // 0.99 of a 1 s ceiling is a 1 s Wait, scaled to 10 ms.
    rig = testbed.rig({ random: () => 0.99, waitScale: 0.01 });
    const jobId = await rig.submit();
    rig.worker.script(jobId, { kind: 'fail', error: 'NON_ZERO_EXIT_CODE', cause: { message: 'exit 1', exitCode: 1, durationMs: 5, outputTail: 'boom' } }, { kind: 'succeed' });

    const execution = await rig.run(jobId);

    expect(await rig.job(jobId)).toMatchObject({ status: 'SUCCEEDED', attempts: 2, result: { exitCode: 0 } });
    expect(await rig.eventTypes(jobId)).toEqual(['JobQueued', 'JobDispatched', 'JobRunning', 'JobRetryScheduled', 'JobDispatched', 'JobRunning', 'JobSucceeded']);
    const retry = (await testbed.outbox(jobId)).find((event) => event.type === 'JobRetryScheduled')!;
    expect(retry.data).toMatchObject({ delaySeconds: 1, failure: { reason: 'NON_ZERO_EXIT_CODE', retryable: true } });
    const { enteredStates, events } = rig.engine.history(execution.executionArn);
    expect(enteredStates).toEqual(['ClaimJob', 'Categorize', 'StopWorkerProcess', 'ReleaseSlot', 'RecordFailure', 'RetryOrEnd', 'Backoff', 'ClaimJob', 'RecordSuccess']);
    expectCompensatedInOrder(enteredStates);
    expect(events.find((event) => event.state === 'Backoff')?.stateType).toBe('Wait');
  });

  it('dead-letters a job whose attempts are exhausted', async () => {
    rig = testbed.rig();
    const jobId = await rig.submit({ command: 'false', maxAttempts: 2 });
    const failure = { kind: 'fail', error: 'NON_ZERO_EXIT_CODE', cause: { message: 'exit 1', exitCode: 1, durationMs: 3, outputTail: 'nope' } } as const;
    rig.worker.script(jobId, failure, failure);

    const execution = await rig.run(jobId);

    expect(execution.status).toBe('SUCCEEDED');
    const job = await rig.job(jobId);
    expect(job).toMatchObject({ status: 'DEAD_LETTERED', attempts: 2, failure: { reason: 'NON_ZERO_EXIT_CODE', message: 'exit 1' }, result: { exitCode: 1, outputTail: 'nope' } });
    expect(job.finishedAt).toBeDefined();
    expect(await rig.eventTypes(jobId)).toEqual([
      'JobQueued', 'JobDispatched', 'JobRunning', 'JobRetryScheduled', 'JobDispatched', 'JobRunning', 'JobDeadLettered',
    ]);
    expectCompensatedInOrder(rig.engine.history(execution.executionArn).enteredStates);
  });

  it('fails at once on a non-retryable failure (COMMAND_NOT_FOUND), keeping the partial result', async () => {
    rig = testbed.rig();
    const jobId = await rig.submit({ command: 'no-such-command', maxAttempts: 3 });
    rig.worker.script(jobId, { kind: 'fail', error: 'COMMAND_NOT_FOUND', cause: { message: 'sh: no-such-command: not found', exitCode: 127, durationMs: 2, outputTail: 'not found' } });

    const execution = await rig.run(jobId);

    expect(await rig.job(jobId)).toMatchObject({
      status: 'FAILED', attempts: 1, stopRequested: true,
      failure: { reason: 'COMMAND_NOT_FOUND', category: 'user', retryable: false },
      result: { exitCode: 127, durationMs: 2, outputTail: 'not found' },
    });
    const events = await testbed.outbox(jobId);
    expect(events.map((event) => event.type)).toEqual(['JobQueued', 'JobDispatched', 'JobRunning', 'JobFailed']);
    expect(events[3]!.data).toMatchObject({ failure: { reason: 'COMMAND_NOT_FOUND' }, result: { exitCode: 127 } });
    const { enteredStates, events: history } = rig.engine.history(execution.executionArn);
    expect(enteredStates).toEqual(['ClaimJob', 'Categorize', 'StopWorkerProcess', 'ReleaseSlot', 'RecordFailure', 'RetryOrEnd', 'Ended']);
    // Both undos had something to undo, and each says so in the history.
    const exited = (state: string) => history.find((event) => event.type === 'StateExited' && event.state === state)?.output as Record<string, unknown>;
    expect(exited('StopWorkerProcess').stopWorkerProcess).toEqual({ compensation: 'StopWorkerProcess', applied: true });
    expect(exited('ReleaseSlot').releaseSlot).toEqual({ compensation: 'ReleaseSlot', applied: true });
  });

  it('times out a job no worker answers (an infrastructure failure, not the job\'s own timeout), then follows the policy', async () => {
    // A heartbeat timeout of 1 s in place of the grace's 6 hours: the silent worker never heartbeats.
    rig = testbed.rig({ claimHeartbeatSeconds: 1 });
    const jobId = await rig.submit({ command: 'sleep 999', timeoutSeconds: 1, maxAttempts: 2 });
    rig.worker.script(jobId, { kind: 'silent' }, { kind: 'silent' });

    const execution = await rig.run(jobId);

    expect(await rig.job(jobId)).toMatchObject({ status: 'DEAD_LETTERED', attempts: 2, stopRequested: true, failure: { reason: 'INFRASTRUCTURE_ERROR', retryable: true } });
    expect((await rig.job(jobId)).failure!.message).toMatch(/may never have started/);
    expect(await rig.eventTypes(jobId)).toEqual([
      'JobQueued', 'JobDispatched', 'JobRunning', 'JobRetryScheduled', 'JobDispatched', 'JobRunning', 'JobDeadLettered',
    ]);
    expectCompensatedInOrder(rig.engine.history(execution.executionArn).enteredStates);
    // The timed-out attempt's token is closed: a late answer is refused, as in AWS.
    const late = rig.worker.received[0]!.message;
    expect(() => rig.worker.succeed(late)).toThrow(expect.objectContaining({ name: 'TaskTimedOut' }));
  });

  it('ends without dispatching when the job was cancelled before the claim', async () => {
    rig = testbed.rig();
    const jobId = await rig.submit();
    await testbed.jobs.cancel(rig.actor, jobId, 'test');

    const execution = await rig.run(jobId);

    expect(execution.status).toBe('SUCCEEDED');
    expect(rig.engine.history(execution.executionArn).enteredStates).toEqual(['ClaimJob', 'NotClaimable']);
    expect((await rig.job(jobId)).status).toBe('CANCELLED');
    expect(await rig.eventTypes(jobId)).toEqual(['JobQueued', 'JobCancelled']);
    expect(rig.worker.received).toHaveLength(0);
  });

  it('stops during the backoff Wait when the job is cancelled there (StopExecution)', async () => {
    // A 60 s backoff: the test proves the stop ends it, not the clock.
    rig = testbed.rig({ baseSeconds: 60, random: () => 0.99 });
    const jobId = await rig.submit();
    rig.worker.script(jobId, { kind: 'fail', error: 'NON_ZERO_EXIT_CODE', cause: { message: 'exit 1', exitCode: 1 } });
    const executionArn = await rig.startSaga(jobId);
    await rig.engine.waitForState(executionArn, 'Backoff');

    await testbed.jobs.cancel(rig.actor, jobId, 'test');
    await rig.engine.stopExecution({ executionArn, error: 'JobCancelled' });
    const execution = await rig.engine.waitForExecution(executionArn);

    expect(execution).toMatchObject({ status: 'ABORTED', error: 'JobCancelled' });
    expect(rig.engine.history(executionArn).enteredStates.at(-1)).toBe('Backoff');
    expect((await rig.job(jobId)).status).toBe('CANCELLED');
    expect(await rig.eventTypes(jobId)).toEqual(['JobQueued', 'JobDispatched', 'JobRunning', 'JobRetryScheduled', 'JobCancelled']);
  });

  it('records CANCELLED when a running job is cancelled and its task failed with CANCELLED', async () => {
    rig = testbed.rig();
    const jobId = await rig.submit();
    rig.worker.script(jobId, { kind: 'manual' });
    const executionArn = await rig.startSaga(jobId);
    await rig.worker.reportStarted(await rig.worker.nextDispatch(jobId));

    const requested = await testbed.jobs.cancel(rig.actor, jobId, 'test');
    expect(requested).toMatchObject({ status: 'RUNNING', cancelRequested: true });
    // The cancellation path: the job's recorded task token, failed with CANCELLED.
    rig.engine.registry.fail((await rig.job(jobId)).taskToken!, 'CANCELLED', JSON.stringify({ message: 'stopped on request', exitCode: null, durationMs: 40, outputTail: 'partial' }));
    const execution = await rig.engine.waitForExecution(executionArn);

    expect(execution.status).toBe('SUCCEEDED');
    expect(await rig.job(jobId)).toMatchObject({ status: 'CANCELLED', stopRequested: true, failure: { reason: 'CANCELLED' }, result: { exitCode: null, outputTail: 'partial' } });
    expect(await rig.eventTypes(jobId)).toEqual(['JobQueued', 'JobDispatched', 'JobRunning', 'JobCancelRequested', 'JobCancelled']);
    expectCompensatedInOrder(rig.engine.history(executionArn).enteredStates);
  });

  it('cancels through the worker report when the cancel came while the job was only dispatched', async () => {
    rig = testbed.rig();
    const jobId = await rig.submit();
    rig.worker.script(jobId, { kind: 'manual' });
    const executionArn = await rig.startSaga(jobId);
    const message = await rig.worker.nextDispatch(jobId);
    await testbed.jobs.cancel(rig.actor, jobId, 'test');

    // The start report is the first moment the platform holds the token: the consumer fails the task. The job is
    // never recorded RUNNING: the command must not (and, with a fleet agent's start gate, does not) start.
    await rig.worker.reportStarted(message);
    const execution = await rig.engine.waitForExecution(executionArn);

    expect(execution.status).toBe('SUCCEEDED');
    expect(await rig.job(jobId)).toMatchObject({ status: 'CANCELLED', failure: { reason: 'CANCELLED', message: 'The job was cancelled on request.' } });
    expect(await rig.eventTypes(jobId)).toEqual(['JobQueued', 'JobDispatched', 'JobCancelRequested', 'JobCancelled']);
  });

  it('retries a job whose worker was lost, then succeeds', async () => {
    rig = testbed.rig();
    const jobId = await rig.submit();
    rig.worker.script(jobId, { kind: 'fail', error: 'WORKER_LOST', cause: { message: 'The dispatch message reached its DLQ' } }, { kind: 'succeed' });

    await rig.run(jobId);

    expect(await rig.job(jobId)).toMatchObject({ status: 'SUCCEEDED', attempts: 2 });
    const events = await testbed.outbox(jobId);
    expect(events.map((event) => event.type)).toEqual(['JobQueued', 'JobDispatched', 'JobRunning', 'JobRetryScheduled', 'JobDispatched', 'JobRunning', 'JobSucceeded']);
    expect(events[3]!.data).toMatchObject({ failure: { reason: 'WORKER_LOST', category: 'infrastructure' } });
  });

  it('fails a job of an unknown worker class with CONFIGURATION_ERROR, without an attempt', async () => {
    rig = testbed.rig();
    const jobId = await rig.submit({ command: 'nvidia-smi', workerClass: 'gpu' });

    const execution = await rig.run(jobId);

    expect(await rig.job(jobId)).toMatchObject({ status: 'FAILED', attempts: 0, failure: { reason: 'CONFIGURATION_ERROR', retryable: false } });
    expect(await rig.eventTypes(jobId)).toEqual(['JobQueued', 'JobFailed']);
    const { enteredStates } = rig.engine.history(execution.executionArn);
    expect(enteredStates).toEqual(['ClaimJob', 'Categorize', 'StopWorkerProcess', 'ReleaseSlot', 'RecordFailure', 'RetryOrEnd', 'Ended']);
    expect(rig.worker.received).toHaveLength(0);
  });

  it('parks a job that finds no tenant slot, at no event and no transition while it waits, and admits it when one frees', async () => {
    rig = testbed.rig({ slotLimit: 1 });
    const first = await rig.submit({ command: 'first' });
    const second = await rig.submit({ command: 'second' });
    rig.worker.script(first, { kind: 'manual' });
    const firstArn = await rig.startSaga(first);
    const firstMessage = await rig.worker.nextDispatch(first);

    const secondArn = await rig.startSaga(second);
    await rig.engine.waitForState(secondArn, 'WaitForSlot');
    await waitFor('the second run to park', async () => (await testbed.waiting(rig.actor.tenantId)).length === 1);
    const parkedTransitions = rig.engine.history(secondArn).transitions;
    expect(await rig.slotsInUse()).toBe(1);
    expect(await rig.eventTypes(second)).toEqual(['JobQueued']);
    expect(rig.engine.history(secondArn).enteredStates).toEqual(['ClaimJob', 'WaitForSlot']);
    expect(parkedTransitions).toBe(2);
    // A wake with no free slot (a duplicate admission event): the run claims, finds none, and parks again in its
    // place, still without an event.
    expect(await rig.admitOne()).toEqual({ woken: 1, stale: 0 });
    await rig.engine.waitForState(secondArn, 'WaitForSlot', 2);
    await waitFor('the second run to park again', async () => (await testbed.waiting(rig.actor.tenantId)).length === 1);
    expect(await rig.eventTypes(second)).toEqual(['JobQueued']);
    // Parked again under the same key: counted once.
    expect(await testbed.parkedCount(rig.actor.tenantId)).toBe(1);

    rig.worker.succeed(firstMessage);
    expect((await rig.engine.waitForExecution(firstArn)).status).toBe('SUCCEEDED');
    // The freed slot's event says a run is parked, so the admission rule passes it to the consumer.
    expect(await testbed.admitNext(first)).toBe(true);
    expect(await rig.admitOne()).toEqual({ woken: 1, stale: 0 });
    expect((await rig.engine.waitForExecution(secondArn)).status).toBe('SUCCEEDED');
    expect(await rig.job(second)).toMatchObject({ status: 'SUCCEEDED', attempts: 1 });
    expect(await rig.eventTypes(second)).toEqual(['JobQueued', 'JobDispatched', 'JobRunning', 'JobSucceeded']);
    expect(rig.engine.history(secondArn).enteredStates).toEqual(['ClaimJob', 'WaitForSlot', 'ClaimJob', 'WaitForSlot', 'ClaimJob', 'RecordSuccess']);
    expect(await testbed.waiting(rig.actor.tenantId)).toEqual([]);
    // Nobody waited when the second ended: its event says so, and admission is spared the look.
    expect(await testbed.parkedCount(rig.actor.tenantId)).toBe(0);
    expect(await testbed.admitNext(second)).toBe(false);
  });

  it('admits waiting runs by priority, then in the order their jobs were submitted; a cancelled one is skipped', async () => {
    rig = testbed.rig({ slotLimit: 1 });
    const holder = await rig.submit({ command: 'holder' });
    rig.worker.script(holder, { kind: 'manual' });
    const holderArn = await rig.startSaga(holder);
    const holderMessage = await rig.worker.nextDispatch(holder);
    const lowOld = await rig.submit({ command: 'low', priority: 'low' });
    const cancelled = await rig.submit({ command: 'cancelled', priority: 'critical' });
    const highLate = await rig.submit({ command: 'high', priority: 'high' });
    const arns = new Map<string, string>();
    for (const id of [lowOld, cancelled, highLate]) arns.set(id, await rig.startSaga(id));
    await waitFor('three parked runs', async () => (await testbed.waiting(rig.actor.tenantId)).length === 3);
    await testbed.jobs.cancel(rig.actor, cancelled, 'test');
    await rig.engine.stopExecution({ executionArn: arns.get(cancelled)! });

    rig.worker.succeed(holderMessage);
    await rig.engine.waitForExecution(holderArn);
    expect(await rig.admitOne()).toEqual({ woken: 1, stale: 1 });
    await rig.engine.waitForExecution(arns.get(highLate)!);
    expect((await rig.job(highLate)).status).toBe('SUCCEEDED');
    expect((await rig.job(lowOld)).status).toBe('QUEUED');

    expect(await rig.admitOne()).toEqual({ woken: 1, stale: 0 });
    await rig.engine.waitForExecution(arns.get(lowOld)!);
    expect((await rig.job(lowOld)).status).toBe('SUCCEEDED');
    // The stale entry's removal counted too: none left, and the last release says so.
    expect(await testbed.parkedCount(rig.actor.tenantId)).toBe(0);
    expect(await testbed.admitNext(lowOld)).toBe(false);
  });
});
