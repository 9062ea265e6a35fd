import { beforeAll, describe, expect, it, vi } from 'vitest';
import { describeFailure } from '../../functions/core/failure-reasons.ts';
import { newEventId } from '../../functions/core/ids.ts';
import { toJobResource } from '../../functions/core/job.ts';
import { JobNotClaimableError, NoCapacityError } from '../../functions/core/saga-errors.ts';
import type { WorkerReport } from '../../functions/core/saga-messages.ts';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { claimSpec } from '../../functions/core/claim-spec.ts';
import { decideStart } from '../../functions/core/attempt-start.ts';
import { stopLostAttempt } from '../../functions/core/lost-attempt.ts';
import { systemClock } from '../../functions/core/ports.ts';
import { createSagaTestbed } from './harness.ts';

type Testbed = Awaited<ReturnType<typeof createSagaTestbed>>;

/** The steps one at a time, run twice where Step Functions or SQS could run them twice. */
describe('Class: SagaService', () => {
  let testbed: Testbed;

  beforeAll(async () => {
    testbed = await createSagaTestbed();
  });

  /** The fleet's release of worker w1's attempt (core/lost-attempt.ts), as the reaper makes it. */
  const releaseFromW1 = (jobId: string) => stopLostAttempt({ store: testbed.store, clock: systemClock }, jobId, 'w1');
  const started = (jobId: string, attempt = 1, workerId = 'w1'): WorkerReport => ({
    type: 'started', jobId, run: 1, attempt, workerId, startedAt: new Date().toISOString(), taskToken: `token-${workerId}-${attempt}`,
  });

  it('claims once: a repeated claim returns the same payload and takes no second slot or event', async () => {
    const rig = testbed.rig({ slotLimit: 1 });
    const jobId = await rig.submit({ command: 'x', timeoutSeconds: 30 });

    const first = await rig.saga.claim({ jobId, run: 1 });
    const again = await rig.saga.claim({ jobId, run: 1 });

    expect(again).toEqual(first);
    expect(first).toMatchObject({ jobId, run: 1, attempt: 1, timeoutSeconds: 30, dispatchTimeoutSeconds: 30 });
    expect(await rig.slotsInUse()).toBe(1);
    expect(await rig.eventTypes(jobId)).toEqual(['JobQueued', 'JobDispatched']);
    expect(await rig.job(jobId)).toMatchObject({ status: 'DISPATCHED', attempts: 1, slotHeld: true });
  });

  /** The stored item as DynamoDB holds it, index attributes included. */
  const item = async (jobId: string) =>
    (await testbed.tables.documentClient.send(new GetCommand({ TableName: testbed.tables.tableNames.jobs, Key: { jobId }, ConsistentRead: true }))).Item!;
  /** What two jobs claimed the same way share: all but their ids, times and the index keys made of those. */
  const sameItem = ({ jobId: _j, createdAt: _c, updatedAt: _u, execution: _e, overdueAt: _o, createdKey: _k, heldShard, ...rest }: Record<string, unknown>) => ({ ...rest, held: String(heldShard).split('#')[0] });

  it('claims from the spec its execution started with, without reading the job, as a read and write would', async () => {
    const rig = testbed.rig();
    const spec = { command: 'echo hi', env: { A: '1' }, priority: 'high' as const, callbackUrl: 'https://hooks.example.com/forgeflow' };
    const [assumed, read] = [await rig.submit(spec), await rig.submit(spec)];
    const known = { spec: claimSpec(await rig.job(assumed)), status: 'QUEUED' as const, attempts: 0 };

    const reads = vi.spyOn(testbed.store, 'get');
    const payload = await rig.saga.claim({ jobId: assumed, run: 1, known });
    expect(reads).not.toHaveBeenCalled();
    reads.mockRestore();
    const fromRead = await rig.saga.claim({ jobId: read, run: 1 });

    expect({ ...payload, jobId: read, facts: { ...payload.facts, createdAt: fromRead.facts.createdAt } }).toEqual(fromRead);
    expect(sameItem(await item(assumed))).toEqual(sameItem(await item(read)));
    expect((await item(assumed)).heldShard).toMatch(/^held#/);
    expect(await rig.slotsInUse()).toBe(2);
    const [a, b] = [(await testbed.outbox(assumed)).at(-1)!, (await testbed.outbox(read)).at(-1)!];
    expect(a.type).toBe('JobDispatched');
    expect({ ...a.data, jobId: read, createdAt: (b.data as { createdAt: string }).createdAt }).toEqual(b.data);
  });

  it('answers a claim from the spec that runs again (a Lambda retry) with the same payload, and no second slot or event', async () => {
    const rig = testbed.rig({ slotLimit: 1 });
    const jobId = await rig.submit();
    const known = { spec: claimSpec(await rig.job(jobId)), status: 'QUEUED' as const, attempts: 0 };

    const first = await rig.saga.claim({ jobId, run: 1, known });
    const again = await rig.saga.claim({ jobId, run: 1, known });

    expect(again).toEqual(first);
    expect(await rig.slotsInUse()).toBe(1);
    expect(await rig.eventTypes(jobId)).toEqual(['JobQueued', 'JobDispatched']);
  });

  it('claims a retry from the last dispatch, and refuses a job that is not as the spec assumed as the read would', async () => {
    const rig = testbed.rig();
    const [retried, cancelled] = [await rig.submit({ command: 'x', maxAttempts: 3 }), await rig.submit()];
    const first = await rig.saga.claim({ jobId: retried, run: 1 });
    await rig.saga.recordFailure({ jobId: retried, run: 1, failure: describeFailure('NON_ZERO_EXIT_CODE', 'exit 1'), decisionId: newEventId() });
    await rig.saga.releaseSlot({ jobId: retried, run: 1 });
    await testbed.jobs.cancel(rig.actor, cancelled, 'test');

    const second = await rig.saga.claim({ jobId: retried, run: 1, known: { spec: claimSpec(await rig.job(retried)), status: 'RETRY_SCHEDULED', attempts: first.attempt } });
    const refused = claimSpec(await rig.job(cancelled));
    await expect(rig.saga.claim({ jobId: cancelled, run: 1, known: { spec: refused, status: 'QUEUED', attempts: 0 } })).rejects.toMatchObject({ name: 'JobNotClaimable', details: { reason: 'it is CANCELLED' } });

    expect(second).toMatchObject({ attempt: 2 });
    expect(await rig.job(retried)).toMatchObject({ status: 'DISPATCHED', attempts: 2, slotHeld: true });
    expect(await rig.slotsInUse()).toBe(1);
  });

  it('records a failure decision once: a RecordFailure retried after it committed answers the same, with no second event', async () => {
    const rig = testbed.rig();
    const jobId = await rig.submit({ command: 'x', maxAttempts: 3 });
    await rig.saga.claim({ jobId, run: 1 });
    const failure = { failure: describeFailure('NON_ZERO_EXIT_CODE', 'exit 1'), decisionId: newEventId() };

    const first = await rig.saga.recordFailure({ jobId, run: 1, ...failure });
    const retried = await rig.saga.recordFailure({ jobId, run: 1, ...failure });

    expect(first).toMatchObject({ action: 'retry', status: 'RETRY_SCHEDULED' });
    expect(retried).toEqual(first);
    expect(await rig.eventTypes(jobId)).toEqual(['JobQueued', 'JobDispatched', 'JobRetryScheduled']);
    expect(toJobResource(await rig.job(jobId))).not.toHaveProperty('lastDecisionId');
  });

  it('refuses a claim beyond the tenant limit with NoCapacity, changing nothing', async () => {
    const rig = testbed.rig({ slotLimit: 1 });
    const [a, b] = [await rig.submit(), await rig.submit()];
    await rig.saga.claim({ jobId: a, run: 1 });

    const refused = rig.saga.claim({ jobId: b, run: 1 });

    await expect(refused).rejects.toBeInstanceOf(NoCapacityError);
    await expect(refused).rejects.toMatchObject({ name: 'NoCapacity', retryable: true });
    expect(await rig.job(b)).toMatchObject({ status: 'QUEUED', attempts: 0 });
    expect(await rig.slotsInUse()).toBe(1);
  });

  it('does not claim a job of another run, a finished job, or a missing one', async () => {
    const rig = testbed.rig();
    const jobId = await rig.submit();
    await testbed.jobs.cancel(rig.actor, jobId, 'test');

    await expect(rig.saga.claim({ jobId, run: 1 })).rejects.toMatchObject({ name: 'JobNotClaimable', details: { reason: 'it is CANCELLED' } });
    await expect(rig.saga.claim({ jobId, run: 2 })).rejects.toBeInstanceOf(JobNotClaimableError);
    await expect(rig.saga.claim({ jobId: 'job_missing', run: 1 })).rejects.toBeInstanceOf(JobNotClaimableError);
  });

  it('records RUNNING once, ignores reports of other attempts, and takes over a re-delivered dispatch', async () => {
    const rig = testbed.rig();
    const jobId = await rig.submit();
    await rig.saga.claim({ jobId, run: 1 });

    await rig.saga.recordRunning(started(jobId));
    await rig.saga.recordRunning(started(jobId));
    const stale = await rig.saga.recordRunning(started(jobId, 2));
    const takeover = await rig.saga.recordRunning(started(jobId, 1, 'w2'));

    expect(stale).toMatchObject({ status: 'RUNNING', workerId: 'w1' });
    expect(takeover).toMatchObject({ status: 'RUNNING', workerId: 'w2', taskToken: 'token-w2-1' });
    expect(await rig.eventTypes(jobId)).toEqual(['JobQueued', 'JobDispatched', 'JobRunning', 'JobRunning']);
    expect(toJobResource(await rig.job(jobId))).not.toHaveProperty('taskToken');
  });

  it('starts an attempt from one copy of its dispatch only: another copy never runs it again, the reappeared message takes it over', async () => {
    const rig = testbed.rig();
    const jobId = await rig.submit();
    await rig.saga.claim({ jobId, run: 1 });
    // Two copies of one dispatch, same token (a send retried after a lost answer): m1 and m2.
    const copy = (workerId: string, messageId: string): WorkerReport => ({ ...started(jobId, 1, workerId), taskToken: 'token-1', messageId });

    expect(await decideStart(rig.saga, copy('w1', 'm1'))).toBe('proceed');
    // Its own repeated report still proceeds; the other copy does not, on the same agent or another.
    expect(await decideStart(rig.saga, copy('w1', 'm1'))).toBe('proceed');
    expect(await decideStart(rig.saga, copy('w1', 'm2'))).toBe('over');
    expect(await decideStart(rig.saga, copy('w2', 'm2'))).toBe('over');
    expect(await rig.job(jobId)).toMatchObject({ status: 'RUNNING', workerId: 'w1', dispatchMessageId: 'm1' });
    // w1 died: m1 reappears to w2, which takes the attempt over.
    expect(await decideStart(rig.saga, copy('w2', 'm1'))).toBe('proceed');
    expect(await rig.job(jobId)).toMatchObject({ status: 'RUNNING', workerId: 'w2', dispatchMessageId: 'm1' });
    expect(await rig.eventTypes(jobId)).toEqual(['JobQueued', 'JobDispatched', 'JobRunning', 'JobRunning']);
    expect(toJobResource(await rig.job(jobId))).not.toHaveProperty('dispatchMessageId');
    await rig.saga.stopWorkerProcess({ jobId, run: 1 });
    await rig.saga.releaseSlot({ jobId, run: 1 });
  });

  it("stops a removed worker's attempt so that no agent starts it after; a takeover that came first keeps it", async () => {
    const rig = testbed.rig();
    const [lost, takenOver] = [await rig.submit(), await rig.submit()];
    for (const jobId of [lost, takenOver]) {
      await rig.saga.claim({ jobId, run: 1 });
      await rig.saga.recordRunning(started(jobId));
    }

    // w1 was removed: its attempt is stopped, and answered again to a release that retries.
    expect(await releaseFromW1(lost)).toEqual({ attempts: 1, taskToken: 'token-w1-1' });
    expect(await releaseFromW1(lost)).toEqual({ attempts: 1, taskToken: 'token-w1-1' });
    // Its message reappears to w2, whose start comes too late: the command must not run.
    expect(await decideStart(rig.saga, started(lost, 1, 'w2'))).toBe('over');
    expect(await rig.job(lost)).toMatchObject({ status: 'RUNNING', workerId: 'w1', stopRequested: true });
    // The reappeared message carries the dispatch's token: the start fails that task, in case the release could not.
    const failed: unknown[] = [];
    const failTask = async (...args: unknown[]) => failed.push(args);
    expect(await decideStart(rig.saga, { ...started(lost, 1, 'w2'), taskToken: 'token-w1-1' }, failTask)).toBe('over');
    expect(failed).toEqual([['token-w1-1', 'WORKER_LOST', { message: 'Attempt 1 was stopped when its worker was removed', workerId: 'w1' }]]);

    // w2 took the other job over before the release: the release leaves it to w2.
    expect(await decideStart(rig.saga, started(takenOver, 1, 'w2'))).toBe('proceed');
    expect(await releaseFromW1(takenOver)).toBeUndefined();
    expect(await rig.job(takenOver)).toMatchObject({ status: 'RUNNING', workerId: 'w2' });
    expect(await rig.job(takenOver)).not.toHaveProperty('stopRequested');
    expect(await releaseFromW1('job_00000000000000000000000000000000')).toBeUndefined();
  });

  it('lets exactly one of a release and a takeover happening at once win, job after job', async () => {
    const rig = testbed.rig();
    // As many as the tenant's slots allow.
    const jobIds = await Promise.all(Array.from({ length: 5 }, () => rig.submit()));
    for (const jobId of jobIds) {
      await rig.saga.claim({ jobId, run: 1 });
      await rig.saga.recordRunning(started(jobId));
    }
    const outcomes = await Promise.all(jobIds.map(async (jobId) => Promise.all([releaseFromW1(jobId), decideStart(rig.saga, started(jobId, 1, 'w2'))])));
    // Released: the takeover must not run the command. Not released: the takeover holds the attempt.
    for (const [released, verdict] of outcomes) expect(verdict).toBe(released ? 'over' : 'proceed');
  });

  it('does not start an attempt a compensation stopped while it waited in the queue, even from the facts', async () => {
    const rig = testbed.rig();
    const jobId = await rig.submit();
    const { facts } = await rig.saga.claim({ jobId, run: 1 });
    await rig.saga.stopWorkerProcess({ jobId, run: 1 });

    expect(await decideStart(rig.saga, { ...started(jobId), facts })).toBe('over');
    expect(await rig.job(jobId)).toMatchObject({ status: 'DISPATCHED', stopRequested: true });
    expect(await rig.eventTypes(jobId)).toEqual(['JobQueued', 'JobDispatched']);
  });

  it('records success once and frees the slot in the same commit', async () => {
    const rig = testbed.rig();
    const jobId = await rig.submit();
    await rig.saga.claim({ jobId, run: 1 });
    const now = new Date().toISOString();
    const output = { exitCode: 0, durationMs: 7, outputTail: 'ok', workerId: 'w1', startedAt: now, finishedAt: now };

    await rig.saga.recordSuccess({ jobId, run: 1, attempt: 1, output });
    const again = await rig.saga.recordSuccess({ jobId, run: 1, attempt: 1, output });

    expect(again).toEqual({ jobId, run: 1, status: 'SUCCEEDED' });
    expect(await rig.job(jobId)).toMatchObject({ status: 'SUCCEEDED', slotHeld: false, result: { exitCode: 0, durationMs: 7, outputTail: 'ok' } });
    expect(await rig.slotsInUse()).toBe(0);
    expect(await rig.eventTypes(jobId)).toEqual(['JobQueued', 'JobDispatched', 'JobSucceeded']);
  });

  it('records RUNNING from the dispatch\'s facts without reading the job, as a read and write would', async () => {
    const rig = testbed.rig();
    const spec = { command: 'echo hi', callbackUrl: 'https://hooks.example.com/forgeflow' };
    const [fromFacts, fromRead] = [await rig.submit(spec), await rig.submit(spec)];
    const { facts } = await rig.saga.claim({ jobId: fromFacts, run: 1 });
    await rig.saga.claim({ jobId: fromRead, run: 1 });
    const startedAt = new Date().toISOString();

    const reads = vi.spyOn(testbed.store, 'get');
    const started1 = await rig.saga.recordRunning({ ...started(fromFacts), startedAt, facts });
    const again = await rig.saga.recordRunning({ ...started(fromFacts), startedAt, facts });
    expect(reads).not.toHaveBeenCalled();
    reads.mockRestore();
    await rig.saga.recordRunning({ ...started(fromRead), startedAt });

    expect(started1).toEqual({ jobId: fromFacts, run: 1, attempts: 1, status: 'RUNNING', cancelRequested: false, taskToken: 'token-w1-1', workerId: 'w1' });
    expect(again).toMatchObject({ status: 'RUNNING', taskToken: 'token-w1-1' });
    const sameJob = ({ jobId: _j, createdAt: _c, updatedAt: _u, execution: _e, overdueAt: _o, ...rest }: Record<string, unknown>) => rest;
    expect(sameJob({ ...(await rig.job(fromFacts)) })).toEqual(sameJob({ ...(await rig.job(fromRead)) }));
    const events = await testbed.outbox(fromFacts);
    expect(events.map((event) => event.type)).toEqual(['JobQueued', 'JobDispatched', 'JobRunning']);
    const [a, b] = [events.at(-1)!, (await testbed.outbox(fromRead)).at(-1)!];
    expect({ ...a.data, jobId: fromRead, createdAt: (b.data as { createdAt: string }).createdAt }).toEqual(b.data);
  });

  it('does not start an attempt whose cancel came first, deciding from the job its failed condition returns', async () => {
    const rig = testbed.rig();
    const jobId = await rig.submit();
    const { facts } = await rig.saga.claim({ jobId, run: 1 });
    await testbed.jobs.cancel(rig.actor, jobId, 'test');

    const reads = vi.spyOn(testbed.store, 'get');
    const attempt = await rig.saga.recordRunning({ ...started(jobId), facts });
    expect(reads).not.toHaveBeenCalled();
    reads.mockRestore();

    expect(attempt).toMatchObject({ status: 'DISPATCHED', cancelRequested: true });
    expect(await rig.eventTypes(jobId)).toEqual(['JobQueued', 'JobDispatched', 'JobCancelRequested']);
  });

  it('records a RUNNING job\'s success from the claim\'s facts without reading it, as a read and write would', async () => {
    const rig = testbed.rig();
    const spec = { command: 'echo hi', callbackUrl: 'https://hooks.example.com/forgeflow', metadata: { team: 'a' } };
    const [fromFacts, fromRead] = [await rig.submit(spec), await rig.submit(spec)];
    const facts = await rig.saga.claim({ jobId: fromFacts, run: 1 });
    await rig.saga.claim({ jobId: fromRead, run: 1 });
    const now = new Date().toISOString();
    for (const jobId of [fromFacts, fromRead]) await rig.saga.recordRunning({ ...started(jobId), startedAt: now });
    const output = { exitCode: 0, durationMs: 7, outputTail: 'ok', workerId: 'w1', startedAt: now, finishedAt: now };

    const reads = vi.spyOn(testbed.store, 'get');
    await rig.saga.recordSuccess({ jobId: fromFacts, run: 1, attempt: 1, output, facts: facts.facts });
    expect(reads).not.toHaveBeenCalled();
    reads.mockRestore();
    await rig.saga.recordSuccess({ jobId: fromRead, run: 1, attempt: 1, output });

    const sameJob = ({ jobId: _j, createdAt: _c, updatedAt: _u, execution: _e, overdueAt: _o, ...rest }: Record<string, unknown>) => rest;
    expect(sameJob({ ...(await rig.job(fromFacts)) })).toEqual(sameJob({ ...(await rig.job(fromRead)) }));
    const lastEvent = async (jobId: string) => (await testbed.outbox(jobId)).at(-1)!;
    const [a, b] = [await lastEvent(fromFacts), await lastEvent(fromRead)];
    expect({ ...a.data, jobId: fromRead, createdAt: (b.data as { createdAt: string }).createdAt }).toEqual(b.data);
    expect(a).toMatchObject({ type: 'JobSucceeded', tenantId: b.tenantId, subject: fromFacts });
    expect(await rig.slotsInUse()).toBe(0);
  });

  it('decides from the job its failed condition returns when the facts no longer hold, still without reading it', async () => {
    const rig = testbed.rig();
    const jobId = await rig.submit();
    // The command ended before its RUNNING report was recorded: the job is still DISPATCHED.
    const facts = await rig.saga.claim({ jobId, run: 1 });
    const now = new Date().toISOString();
    const output = { exitCode: 0, durationMs: 7, outputTail: 'ok', workerId: 'w1', startedAt: now, finishedAt: now };

    const reads = vi.spyOn(testbed.store, 'get');
    const first = await rig.saga.recordSuccess({ jobId, run: 1, attempt: 1, output, facts: facts.facts });
    const again = await rig.saga.recordSuccess({ jobId, run: 1, attempt: 1, output, facts: facts.facts });
    expect(reads).not.toHaveBeenCalled();
    reads.mockRestore();

    expect(first).toEqual({ jobId, run: 1, status: 'SUCCEEDED' });
    expect(again).toEqual(first);
    expect(await rig.job(jobId)).toMatchObject({ status: 'SUCCEEDED', slotHeld: false, startedAt: now, result: { exitCode: 0 } });
    expect(await rig.eventTypes(jobId)).toEqual(['JobQueued', 'JobDispatched', 'JobSucceeded']);
    expect((await testbed.outbox(jobId)).at(-1)!.data).toMatchObject({ previousStatus: 'DISPATCHED' });
    expect(await rig.slotsInUse()).toBe(0);
  });

  it('runs each compensation once: the second run finds nothing to undo', async () => {
    const rig = testbed.rig();
    const jobId = await rig.submit();
    await rig.saga.claim({ jobId, run: 1 });

    const stop = [await rig.saga.stopWorkerProcess({ jobId, run: 1 }), await rig.saga.stopWorkerProcess({ jobId, run: 1 })];
    const release = [await rig.saga.releaseSlot({ jobId, run: 1 }), await rig.saga.releaseSlot({ jobId, run: 1 })];

    expect(stop.map((outcome) => outcome.applied)).toEqual([true, false]);
    expect(release.map((outcome) => outcome.applied)).toEqual([true, false]);
    expect(await rig.job(jobId)).toMatchObject({ status: 'DISPATCHED', stopRequested: true, slotHeld: false });
    expect(await rig.slotsInUse()).toBe(0);
    // Bookkeeping is not a state change: no event, no counters.
    expect(await rig.eventTypes(jobId)).toEqual(['JobQueued', 'JobDispatched']);
  });

  it('records a failure once and frees a slot the compensation could not', async () => {
    const rig = testbed.rig();
    const jobId = await rig.submit();
    await rig.saga.claim({ jobId, run: 1 });
    const failure = describeFailure('COMMAND_NOT_FOUND', 'not found');

    const first = await rig.saga.recordFailure({ jobId, run: 1, failure });
    const again = await rig.saga.recordFailure({ jobId, run: 1, failure });

    expect(first).toEqual({ action: 'end', status: 'FAILED' });
    expect(again).toEqual({ action: 'end', status: 'FAILED' });
    expect(await rig.slotsInUse()).toBe(0);
    expect(await rig.eventTypes(jobId)).toEqual(['JobQueued', 'JobDispatched', 'JobFailed']);
  });

  it('schedules a retry with the wait it announces in the event', async () => {
    const rig = testbed.rig({ baseSeconds: 8, random: () => 0.5 });
    const jobId = await rig.submit();
    await rig.saga.claim({ jobId, run: 1 });

    const outcome = await rig.saga.recordFailure({ jobId, run: 1, failure: describeFailure('WORKER_LOST', 'gone') });

    expect(outcome).toEqual({ action: 'retry', status: 'RETRY_SCHEDULED', waitSeconds: 4 });
    const events = await testbed.outbox(jobId);
    expect(events.at(-1)).toMatchObject({ type: 'JobRetryScheduled', data: { delaySeconds: 4, failure: { reason: 'WORKER_LOST' } } });
  });
});
