import { describe, expect, it } from 'vitest';
import type { DispatchMessage } from '../../functions/core/saga-messages.ts';
import { createSagaSteps } from '../../functions/saga/steps.ts';
import { useSagaTestbed } from './harness.ts';

/**
 * After an upgrade, executions started on the definition before decision 0025 run on (their ClaimJob passes no
 * task token, their Dispatch state sends), and agents of an older release answer without the attempt and facts.
 */
describe('Saga steps, for executions and agents from before ClaimJob sent the dispatch', () => {
  const bed = useSagaTestbed();

  const stepsOf = (rig: ReturnType<typeof bed.rig>) => {
    const sent: DispatchMessage[] = [];
    const steps = createSagaSteps(rig.saga, { dispatch: { send: async (_url, message) => void sent.push(message) } });
    return { steps, sent };
  };
  const answer = (now = new Date().toISOString()) => ({ exitCode: 0, durationMs: 5, outputTail: 'ok\n', workerId: 'worker-1', startedAt: now, finishedAt: now });

  it('ClaimJob without a task token claims and returns the dispatch for the old Dispatch state, sending nothing', async () => {
    const rig = bed.rig();
    const { steps, sent } = stepsOf(rig);
    const jobId = await rig.submit({ command: 'echo old', timeoutSeconds: 30 });

    const payload = await steps.ClaimJob({ jobId, run: 1 });

    expect(sent).toEqual([]);
    expect(payload).toMatchObject({ jobId, run: 1, attempt: 1, command: 'echo old', queueUrl: expect.any(String), dispatchTimeoutSeconds: 30 });
    expect(await rig.job(jobId)).toMatchObject({ status: 'DISPATCHED', attempts: 1, slotHeld: true });
    await rig.saga.releaseSlot({ jobId, run: 1 });
  });

  it('ClaimJob with a task token sends the dispatch message: the claim, the token, nothing of the queue', async () => {
    const rig = bed.rig();
    const { steps, sent } = stepsOf(rig);
    const jobId = await rig.submit({ command: 'echo new' });

    await expect(steps.ClaimJob({ jobId, run: 1, taskToken: 'token-1' })).resolves.toEqual({ jobId, run: 1, attempt: 1 });

    expect(sent).toEqual([expect.objectContaining({ jobId, run: 1, attempt: 1, command: 'echo new', taskToken: 'token-1' })]);
    expect(sent[0]).not.toHaveProperty('queueUrl');
    expect(sent[0]).not.toHaveProperty('dispatchTimeoutSeconds');
    await rig.saga.releaseSlot({ jobId, run: 1 });
  });

  it('RecordSuccess records an answer without the attempt and facts by reading the job, and the old form beside it too', async () => {
    const rig = bed.rig();
    const { steps } = stepsOf(rig);
    const run = async (jobId: string) => {
      const claimed = await rig.saga.claim({ jobId, run: 1 });
      await rig.saga.recordRunning({ type: 'started', jobId, run: 1, attempt: 1, workerId: 'worker-1', startedAt: new Date().toISOString(), taskToken: 'token-1' });
      return claimed;
    };
    const bare = await rig.submit();
    const beside = await rig.submit();
    await run(bare);
    const { facts } = await run(beside);

    await expect(steps.RecordSuccess({ jobId: bare, run: 1, output: answer() })).resolves.toMatchObject({ status: 'SUCCEEDED' });
    await expect(steps.RecordSuccess({ jobId: beside, run: 1, attempt: 1, facts, output: answer() })).resolves.toMatchObject({ status: 'SUCCEEDED' });

    for (const jobId of [bare, beside]) expect(await rig.job(jobId)).toMatchObject({ status: 'SUCCEEDED', attempts: 1, slotHeld: false, result: { exitCode: 0 } });
  });
});
