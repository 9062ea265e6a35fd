import { describe, expect, it } from 'vitest';
import { decideStart } from '../../functions/core/attempt-start.ts';
import type { DispatchMessage, WorkerReport } from '../../functions/core/saga-messages.ts';
import { useSagaTestbed } from './harness.ts';

const reportOf = (message: DispatchMessage): WorkerReport => ({
  type: 'started',
  jobId: message.jobId,
  run: message.run,
  attempt: message.attempt,
  workerId: 'worker-1',
  startedAt: new Date().toISOString(),
  taskToken: message.taskToken,
});

/**
 * A cancel accepted (202) while a worker holds the job: the start and the cancel are both conditional writes on the
 * job, so one comes first, and what the user was told holds either way. Real ASL, steps and DynamoDB Local.
 */
describe('Cancel while a worker holds the job', () => {
  const saga = useSagaTestbed();
  let rig: ReturnType<typeof saga.rig>;
  const jobs = () => saga.testbed().jobs;

  const dispatched = async () => {
    rig = saga.rig();
    const jobId = await rig.submit({ command: 'touch /tmp/side-effect', maxAttempts: 3 });
    rig.worker.script(jobId, { kind: 'manual' });
    const execution = rig.startSaga(jobId);
    const message = await rig.worker.nextDispatch(jobId);
    return { jobId, message, execution: await execution };
  };

  it('cancelled while DISPATCHED: the agent is told not to start, the job is never RUNNING, and ends CANCELLED', async () => {
    const { jobId, message, execution } = await dispatched();
    expect((await jobs().cancel(rig.actor, jobId, 'test')).cancelRequested).toBe(true);

    expect(await decideStart(rig.saga, reportOf(message))).toBe('cancelled');
    expect((await rig.job(jobId)).status).toBe('DISPATCHED');
    // What the agent does with that verdict: fail the task, never run the command.
    rig.worker.fail(message, 'CANCELLED', { message: 'The job was cancelled before it started; the command never ran.' });

    expect((await rig.engine.waitForExecution(execution)).status).toBe('SUCCEEDED');
    expect(await rig.job(jobId)).toMatchObject({ status: 'CANCELLED', attempts: 1, slotHeld: false });
    expect(await rig.eventTypes(jobId)).toEqual(['JobQueued', 'JobDispatched', 'JobCancelRequested', 'JobCancelled']);
    expect(rig.worker.received).toHaveLength(1);
  });

  it('started first: RUNNING is recorded with the token, so the cancel that follows can fail the running task', async () => {
    const { jobId, message, execution } = await dispatched();
    expect(await decideStart(rig.saga, reportOf(message))).toBe('proceed');
    expect(await rig.job(jobId)).toMatchObject({ status: 'RUNNING', taskToken: message.taskToken });
    await jobs().cancel(rig.actor, jobId, 'test');
    // Job control's part: it reads the recorded token and fails the task with CANCELLED.
    rig.engine.registry.fail((await rig.job(jobId)).taskToken!, 'CANCELLED', JSON.stringify({ message: 'Cancelled by alice' }));

    expect((await rig.engine.waitForExecution(execution)).status).toBe('SUCCEEDED');
    expect(await rig.job(jobId)).toMatchObject({ status: 'CANCELLED', slotHeld: false });
    // A late or repeated start report of that attempt changes nothing and may not start anything.
    expect(await decideStart(rig.saga, reportOf(message))).toBe('over');
  });

  it('a command that finished after the cancel was accepted ends CANCELLED, with its result kept', async () => {
    const { jobId, message, execution } = await dispatched();
    await decideStart(rig.saga, reportOf(message));
    const cancelled = await jobs().cancel(rig.actor, jobId, 'test');
    // Its success raced the cancel's task failure and won (the process exited before the agent could stop it).
    const later = new Date(Date.parse(cancelled.cancelRequestedAt!) + 1000).toISOString();
    rig.engine.registry.succeed(message.taskToken, { exitCode: 0, durationMs: 5, outputTail: 'done\n', workerId: 'worker-1', startedAt: later, finishedAt: later });

    expect((await rig.engine.waitForExecution(execution)).status).toBe('SUCCEEDED');
    const job = await rig.job(jobId);
    expect(job).toMatchObject({ status: 'CANCELLED', slotHeld: false, result: { exitCode: 0, outputTail: 'done\n' }, failure: { reason: 'CANCELLED' } });
    expect(job.failure!.message).toContain('had not finished');
    expect(await rig.eventTypes(jobId)).toEqual(['JobQueued', 'JobDispatched', 'JobRunning', 'JobCancelRequested', 'JobCancelled']);
  });

  it('a command that had already finished when the cancel came keeps its success', async () => {
    const { jobId, message, execution } = await dispatched();
    await decideStart(rig.saga, reportOf(message));
    const before = new Date().toISOString();
    await jobs().cancel(rig.actor, jobId, 'test');
    rig.engine.registry.succeed(message.taskToken, { exitCode: 0, durationMs: 5, outputTail: 'done\n', workerId: 'worker-1', startedAt: before, finishedAt: before });

    expect((await rig.engine.waitForExecution(execution)).status).toBe('SUCCEEDED');
    expect(await rig.job(jobId)).toMatchObject({ status: 'SUCCEEDED', result: { exitCode: 0 } });
  });
});
