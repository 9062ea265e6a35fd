import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { groupHasLiveMembers } from '../../agent/process-runner.ts';
import { MAX_CAUSE_OUTPUT_TAIL, TaskFailureCauseSchema, TaskSuccessSchema, WorkerReportSchema } from '../../functions/core/saga-messages.ts';
import { waitFor } from '../support/wait.ts';
import { finished, useAgentHarness } from './agents.ts';
import { dispatch, enqueue, messagesIn, receiveAll, type TestQueues } from './fakes.ts';

// In-process agents against fauxqs and a fake Step Functions endpoint, both reached through the real SDK clients.
// Short intervals (liveness 0.3 s, visibility 1-2 s) keep each case within a few seconds.
const h = useAgentHarness();

const cause = (token: string) => TaskFailureCauseSchema.parse(JSON.parse(h.sfn.callsFor(token, 'SendTaskFailure')[0]!.input.cause!));
const failure = (token: string) => h.sfn.callsFor(token, 'SendTaskFailure')[0]!.input.error;

async function reportsIn(queues: TestQueues) {
  const messages = await receiveAll(h.client, queues.reportsUrl);
  return messages.map((m) => WorkerReportSchema.parse(JSON.parse(m.Body!)));
}

describe('agent: running a job', () => {
  it('reports success with the exit code and output tail, sends a started report and deletes the message', async () => {
    const { queues, start } = await h.setup();
    const facts = { tenantId: 'tenant-a', priority: 'medium' as const, workerClass: 'default', createdAt: '2026-12-03T08:00:00.000Z' };
    const job = dispatch({ command: 'echo "hello $1"; echo oops >&2', args: ['world'], facts });
    await enqueue(h.client, queues, job);
    const { events } = start();

    expect(await finished(events, job.taskToken)).toMatchObject({ end: 'succeeded', jobId: job.jobId });
    const output = TaskSuccessSchema.parse(JSON.parse(h.sfn.callsFor(job.taskToken, 'SendTaskSuccess')[0]!.input.output!));
    // The dispatch's attempt (and facts, when it has them) come back with the answer, for RecordSuccess.
    expect(output).toMatchObject({ exitCode: 0, outputTail: 'hello world\noops\n', workerId: 'test-worker', attempt: job.attempt });
    expect(output.facts).toEqual(facts);
    expect(Date.parse(output.finishedAt)).toBeGreaterThanOrEqual(Date.parse(output.startedAt));
    expect(h.sfn.callsFor(job.taskToken, 'SendTaskFailure')).toEqual([]);
    const started = events.items.find((event) => event.type === 'started')!;
    // The copy of the dispatch it started from: another copy never starts the attempt again.
    expect(await reportsIn(queues)).toEqual([expect.objectContaining({ type: 'started', jobId: job.jobId, run: 1, attempt: 1, workerId: 'test-worker', taskToken: job.taskToken, messageId: started.messageId })]);
    expect(await messagesIn(h.client, queues.urls.medium)).toBe(0);
  });

  it('tells its own figures: jobs done, and every slot free once idle (slots held for a long poll are not busy)', async () => {
    const { queues, start } = await h.setup({ concurrency: 3 });
    const job = dispatch({ command: 'true' });
    await enqueue(h.client, queues, job);
    const { events, agent } = start();
    await finished(events, job.taskToken);
    // The job leaves the agent's set just after its end is reported.
    await waitFor('the job counted as done', () => agent.stats().jobsDone === 1, 5000);
    const stats = agent.stats();
    expect(stats).toMatchObject({ runningJobs: 0, jobsDone: 1, freeSlots: 3 });
    expect(stats.memoryRssBytes).toBeGreaterThan(0);
    expect(stats.loadAverage).toHaveLength(3);
  });

  it('fails with NON_ZERO_EXIT_CODE and a JSON cause for `exit 3`', async () => {
    const { queues, start } = await h.setup();
    const job = dispatch({ command: 'echo "about to fail"; exit 3' });
    await enqueue(h.client, queues, job);
    const { events } = start();

    expect(await finished(events, job.taskToken)).toMatchObject({ end: 'failed', reason: 'NON_ZERO_EXIT_CODE' });
    expect(failure(job.taskToken)).toBe('NON_ZERO_EXIT_CODE');
    expect(cause(job.taskToken)).toMatchObject({ exitCode: 3, signal: null, outputTail: 'about to fail\n', workerId: 'test-worker', retryable: true });
    expect(cause(job.taskToken).message).toContain('exited with code 3');
    expect(cause(job.taskToken).durationMs).toBeGreaterThanOrEqual(0);
    expect(await messagesIn(h.client, queues.urls.medium)).toBe(0);
  });

  it('fits the cause within the 32,768 characters Step Functions accepts, even for a tail of control characters', async () => {
    const { queues, start } = await h.setup();
    // 9,000 bytes of \x01, each six characters once escaped in JSON, then a last line to find.
    const job = dispatch({ command: "head -c 9000 /dev/zero | tr '\\0' '\\001'; echo; echo the-end; exit 4" });
    await enqueue(h.client, queues, job);
    const { events } = start();

    expect(await finished(events, job.taskToken)).toMatchObject({ end: 'failed', reason: 'NON_ZERO_EXIT_CODE' });
    const sent = h.sfn.callsFor(job.taskToken, 'SendTaskFailure')[0]!.input.cause!;
    expect(sent.length).toBeLessThanOrEqual(32_768);
    expect(sent.length).toBeGreaterThan(30_000);
    expect(cause(job.taskToken)).toMatchObject({ exitCode: 4 });
    expect(cause(job.taskToken).outputTail!.endsWith('\u0001\nthe-end\n')).toBe(true);
  });

  it('fails with COMMAND_NOT_FOUND (not retryable) for a missing command', async () => {
    const { queues, start } = await h.setup();
    const job = dispatch({ command: 'forgeflow-no-such-command --version' });
    await enqueue(h.client, queues, job);
    const { events } = start();

    await finished(events, job.taskToken);
    expect(failure(job.taskToken)).toBe('COMMAND_NOT_FOUND');
    expect(cause(job.taskToken)).toMatchObject({ exitCode: 127, retryable: false });
  });

  it('fails with EXECUTION_TIMEOUT after timeoutSeconds', async () => {
    const { queues, start } = await h.setup();
    const job = dispatch({ command: 'echo started; sleep 20', timeoutSeconds: 1 });
    await enqueue(h.client, queues, job);
    const { events } = start();

    await finished(events, job.taskToken);
    expect(failure(job.taskToken)).toBe('EXECUTION_TIMEOUT');
    expect(cause(job.taskToken).durationMs).toBeGreaterThanOrEqual(1000);
    expect(cause(job.taskToken).durationMs).toBeLessThan(3000);
    expect(cause(job.taskToken).outputTail).toBe('started\n');
  });

  it('keeps only the last MAX_CAUSE_OUTPUT_TAIL characters of the output in the cause', async () => {
    const { queues, start } = await h.setup();
    const job = dispatch({ command: 'i=0; while [ $i -lt 2000 ]; do echo "line $i"; i=$((i+1)); done; exit 1' });
    await enqueue(h.client, queues, job);
    const { events } = start();

    await finished(events, job.taskToken);
    const { outputTail } = cause(job.taskToken);
    expect(outputTail!.length).toBeLessThanOrEqual(MAX_CAUSE_OUTPUT_TAIL);
    expect(outputTail!.endsWith('line 1999\n')).toBe(true);
  });
});

describe('agent: asking before a command starts (fleet workers)', () => {
  const sideEffect = () => join(h.tempDir, `ran-${Math.random().toString(36).slice(2)}`);

  it('runs the command only once the platform says proceed, and sends no queue report', async () => {
    const { queues, start } = await h.setup();
    const file = sideEffect();
    const job = dispatch({ command: `touch ${file}` });
    await enqueue(h.client, queues, job);
    const asked: string[] = [];
    const { events } = start({}, async (report) => (asked.push(report.taskToken), 'proceed'));

    expect(await finished(events, job.taskToken)).toMatchObject({ end: 'succeeded' });
    expect(asked).toEqual([job.taskToken]);
    expect(existsSync(file)).toBe(true);
    expect(await reportsIn(queues)).toEqual([]);
  });

  it('runs two copies of one dispatch once: the copy that comes second is deleted while the first runs', async () => {
    const { queues, start } = await h.setup();
    const file = sideEffect();
    const job = dispatch({ command: `echo ran >> ${file}; sleep 1` });
    // The same body twice, as a send retried after a lost answer leaves it: two messages, one task token.
    await enqueue(h.client, queues, job);
    await enqueue(h.client, queues, job);
    const { events } = start({}, async () => 'proceed');

    const ends = await events.until('both copies to end', () => {
      const found = events.items.filter((event) => event.type === 'finished' && event.taskToken === job.taskToken);
      return found.length === 2 && found.map((event) => (event as { end: string }).end).sort();
    });

    expect(ends).toEqual(['duplicate', 'succeeded']);
    expect(readFileSync(file, 'utf8')).toBe('ran\n');
    expect(h.sfn.callsFor(job.taskToken, 'SendTaskSuccess')).toHaveLength(1);
    expect(await messagesIn(h.client, queues.urls.medium)).toBe(0);
  });

  it('never starts a command cancelled first: fails the task with CANCELLED and deletes the message', async () => {
    const { queues, start } = await h.setup();
    const file = sideEffect();
    const job = dispatch({ command: `touch ${file}` });
    await enqueue(h.client, queues, job);
    const { events } = start({}, async () => 'cancelled');

    expect(await finished(events, job.taskToken)).toMatchObject({ end: 'failed', reason: 'CANCELLED' });
    expect(existsSync(file)).toBe(false);
    expect(failure(job.taskToken)).toBe('CANCELLED');
    expect(cause(job.taskToken).message).toContain('never ran');
    expect(events.items.some((e) => e.type === 'started')).toBe(false);
    expect(await messagesIn(h.client, queues.urls.medium)).toBe(0);
  });

  it('does not start a command whose task cannot be checked: it may be one another agent already finished', async () => {
    const { queues, start } = await h.setup();
    const file = sideEffect();
    const job = dispatch({ command: `touch ${file}` });
    await enqueue(h.client, queues, job);
    // More failures than the retries: the task check never gets an answer.
    for (let i = 0; i < 12; i++) h.sfn.failNext.push({ operation: 'SendTaskHeartbeat', type: 'InternalFailure', status: 500, taskToken: job.taskToken });
    const { events } = start({}, async () => 'proceed');

    expect(await finished(events, job.taskToken)).toMatchObject({ end: 'unreported' });
    expect(existsSync(file)).toBe(false);
    expect(h.sfn.callsFor(job.taskToken, 'SendTaskSuccess')).toEqual([]);
    h.sfn.failNext.splice(0);
  });

  it('drops an attempt that is over, and leaves the message to reappear when the platform does not answer', async () => {
    const { queues, start } = await h.setup();
    const over = dispatch({ command: `touch ${sideEffect()}` });
    const unanswered = dispatch({ command: `touch ${sideEffect()}` });
    await enqueue(h.client, queues, over);
    await enqueue(h.client, queues, unanswered);
    const { events } = start({}, async (report) => {
      if (report.taskToken === over.taskToken) return 'over';
      throw Object.assign(new Error('worker-control unreachable'), { name: 'FUNCTION_ERROR', $retryable: {} });
    });

    expect(await finished(events, over.taskToken)).toMatchObject({ end: 'task-over' });
    expect(await finished(events, unanswered.taskToken)).toMatchObject({ end: 'unreported' });
    expect(events.items.some((e) => e.type === 'started')).toBe(false);
    expect(h.sfn.callsFor(over.taskToken, 'SendTaskFailure')).toEqual([]);
    expect(h.sfn.callsFor(unanswered.taskToken, 'SendTaskFailure')).toEqual([]);
  });
});

describe('agent: liveness', () => {
  it('extends the visibility while a job outlives the visibility timeout: received once, heartbeats sent', async () => {
    const { queues, start } = await h.setup({ visibilityExtensionSeconds: 2 }, { visibilityTimeoutSeconds: 1 });
    const job = dispatch({ command: 'sleep 2.5' });
    await enqueue(h.client, queues, job);
    const { events } = start();

    expect(await finished(events, job.taskToken)).toMatchObject({ end: 'succeeded' });
    expect(events.items.filter((e) => e.type === 'received')).toEqual([expect.objectContaining({ receiveCount: 1 })]);
    // One check before starting, then one per 0.3 s tick during 2.5 s.
    expect(h.sfn.callsFor(job.taskToken, 'SendTaskHeartbeat').length).toBeGreaterThanOrEqual(6);
  });

  it('keeps the message hidden while it answers: a slow SendTaskSuccess does not let the job run again', async () => {
    const { queues, start } = await h.setup({ visibilityExtensionSeconds: 2 }, { visibilityTimeoutSeconds: 1 });
    const job = dispatch({ command: 'true' });
    // The answer takes longer than the visibility the last extension set: only further extensions keep it hidden.
    h.sfn.delayNext.push({ operation: 'SendTaskSuccess', ms: 3_000 });
    await enqueue(h.client, queues, job);
    const { events } = start();

    expect(await finished(events, job.taskToken)).toMatchObject({ end: 'succeeded' });
    expect(events.items.filter((e) => e.type === 'received')).toEqual([expect.objectContaining({ receiveCount: 1 })]);
    expect(events.items.filter((e) => e.type === 'started')).toHaveLength(1);
    expect(await messagesIn(h.client, queues.urls.medium)).toBe(0);
  });

  it('stops the job within one liveness interval when the heartbeat answers TaskTimedOut, and reports nothing', async () => {
    const { queues, start } = await h.setup();
    const pidFile = join(h.tempDir, 'heartbeat.pid');
    const job = dispatch({ command: 'echo $$ > "$1"; sleep 30', args: [pidFile] });
    await enqueue(h.client, queues, job);
    const { events } = start();
    await events.until('job start', () => events.items.some((e) => e.type === 'started'));
    await events.until('pid file', () => readPid(pidFile));

    const over = Date.now();
    h.sfn.over.add(job.taskToken);
    const end = await finished(events, job.taskToken);

    expect(end.end).toBe('task-over');
    // One interval (0.3 s) for the next tick, the kill grace (0.5 s) at most, plus SDK and process latency (generous:
    // test files run in parallel on small machines). Without the heartbeat the job would run for 30 s.
    expect(end.at - over).toBeLessThan(300 + 500 + 1200);
    expect(groupHasLiveMembers(readPid(pidFile)!)).toBe(false);
    expect(h.sfn.callsFor(job.taskToken, 'SendTaskSuccess')).toEqual([]);
    expect(h.sfn.callsFor(job.taskToken, 'SendTaskFailure')).toEqual([]);
    expect(await messagesIn(h.client, queues.urls.medium)).toBe(0);
  });

  it('does not run a redelivered message whose task is already over', async () => {
    const { queues, start } = await h.setup();
    const job = dispatch({ command: 'echo should-not-run' });
    h.sfn.over.add(job.taskToken);
    await enqueue(h.client, queues, job);
    const { events } = start();

    expect(await finished(events, job.taskToken)).toMatchObject({ end: 'task-over' });
    expect(events.items.filter((e) => e.type === 'started')).toEqual([]);
    expect(await reportsIn(queues)).toEqual([]);
    expect(await messagesIn(h.client, queues.urls.medium)).toBe(0);
  });
});

describe('agent: answering the task', () => {
  it('retries a transient SendTaskSuccess failure', async () => {
    const { queues, start } = await h.setup();
    const job = dispatch();
    // More failures than the SDK's own three attempts, so the agent's outer retry is what succeeds.
    for (let i = 0; i < 4; i++) h.sfn.failNext.push({ operation: 'SendTaskSuccess', type: 'ServiceUnavailable', status: 503, taskToken: job.taskToken });
    await enqueue(h.client, queues, job);
    const { events } = start();

    expect(await finished(events, job.taskToken)).toMatchObject({ end: 'succeeded' });
    expect(h.sfn.callsFor(job.taskToken, 'SendTaskSuccess')).toHaveLength(5);
    expect(await messagesIn(h.client, queues.urls.medium)).toBe(0);
  });

  it('deletes the message without retrying when the answer finds the task over', async () => {
    const { queues, start } = await h.setup();
    const job = dispatch();
    h.sfn.failNext.push({ operation: 'SendTaskSuccess', type: 'TaskTimedOut', status: 400, taskToken: job.taskToken });
    await enqueue(h.client, queues, job);
    const { events } = start();

    expect(await finished(events, job.taskToken)).toMatchObject({ end: 'task-over' });
    expect(h.sfn.callsFor(job.taskToken, 'SendTaskSuccess')).toHaveLength(1);
    expect(await messagesIn(h.client, queues.urls.medium)).toBe(0);
  });

  it('leaves the message to reappear when the answer keeps failing', async () => {
    const { queues, start } = await h.setup({ concurrency: 1 });
    const job = dispatch();
    for (let i = 0; i < 9; i++) h.sfn.failNext.push({ operation: 'SendTaskSuccess', type: 'InternalFailure', status: 500, taskToken: job.taskToken });
    await enqueue(h.client, queues, job);
    const { events } = start();

    expect(await finished(events, job.taskToken)).toMatchObject({ end: 'unreported' });
    // Not deleted: it comes back (receive count 2) and the second run's answer gets through.
    const second = await events.until('second run', () => events.items.filter((e) => e.type === 'finished' && e.taskToken === job.taskToken)[1]);
    expect(second).toMatchObject({ end: 'succeeded' });
    expect(events.items.filter((e) => e.type === 'received').map((e) => 'receiveCount' in e && e.receiveCount)).toEqual([1, 2]);
  });
});

describe('agent: drain', () => {
  it('releases jobs still running at the drain deadline so another agent takes them at once', async () => {
    const { queues, start } = await h.setup({ drainTimeoutSeconds: 0.5, visibilityExtensionSeconds: 30 }, { visibilityTimeoutSeconds: 30 });
    const pidFile = join(h.tempDir, 'drain.pid');
    const job = dispatch({ command: 'echo $$ > "$1"; sleep 30', args: [pidFile] });
    await enqueue(h.client, queues, job);
    const agent = start();
    await agent.events.until('pid file', () => readPid(pidFile));

    await agent.agent.drain();

    expect(await finished(agent.events, job.taskToken)).toMatchObject({ end: 'released' });
    expect(groupHasLiveMembers(readPid(pidFile)!)).toBe(false);
    expect(h.sfn.callsFor(job.taskToken).map((c) => c.operation).filter((op) => op !== 'SendTaskHeartbeat')).toEqual([]);
    // Visibility 0: receivable now, although the queue's and the extension's timeouts are 30 s. (A long poll of the
    // draining agent may still be waiting on the queue, take it and give it back at once: hence a 1 s wait.)
    const [message] = await receiveAll(h.client, queues.urls.medium, 1);
    expect(JSON.parse(message!.Body!)).toMatchObject({ taskToken: job.taskToken });
  });
});

function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
