import { describe, expect, it } from 'vitest';
import { PRIORITIES, type Priority } from '../../functions/core/priority.ts';
import { WorkerReportSchema } from '../../functions/core/saga-messages.ts';
import { waitFor } from '../support/wait.ts';
import { finished, useAgentHarness } from './agents.ts';
import { dispatch, enqueue, receiveAll, type TestQueues } from './fakes.ts';

// How the agent takes work from its four queues: priority, capacity, idle latency, bad messages.
const h = useAgentHarness();

async function reportsIn(queues: TestQueues) {
  const messages = await receiveAll(h.client, queues.reportsUrl);
  return messages.map((m) => WorkerReportSchema.parse(JSON.parse(m.Body!)));
}

describe('agent: taking work', () => {
  it('takes critical work first overall but still runs low while higher queues have work', async () => {
    const { queues, start } = await h.setup({ concurrency: 2 });
    const perQueue = 20;
    for (const priority of PRIORITIES) {
      for (let i = 0; i < perQueue; i++) await enqueue(h.client, queues, dispatch({ priority, jobId: `${priority}-${i}` }), priority);
    }
    const { events } = start();
    await events.until('all jobs', () => events.items.filter((e) => e.type === 'finished').length === 4 * perQueue, 30_000);

    const startedOrder = events.items.flatMap((e) => (e.type === 'started' ? [e.queue] : []));
    const finishedOrder = events.items.flatMap((e) => (e.type === 'finished' ? [e.queue] : []));
    const lastFinished = (p: Priority) => finishedOrder.lastIndexOf(p);
    expect(startedOrder.slice(0, 2)).toEqual(['critical', 'critical']);
    expect(lastFinished('critical')).toBeLessThan(lastFinished('high'));
    expect(lastFinished('high')).toBeLessThan(lastFinished('medium'));
    expect(lastFinished('medium')).toBeLessThan(lastFinished('low'));
    // Low is not starved: its first job starts while critical still has work waiting.
    expect(startedOrder.indexOf('low')).toBeLessThan(startedOrder.lastIndexOf('critical'));
    expect(startedOrder.indexOf('low')).toBeLessThanOrEqual(2 * 15);
  });

  it('never runs more than `concurrency` jobs at once', async () => {
    const { queues, start } = await h.setup({ concurrency: 3 });
    const jobs = Array.from({ length: 12 }, (_, i) => dispatch({ command: 'sleep 0.2', jobId: `cap-${i}` }));
    for (const [i, job] of jobs.entries()) await enqueue(h.client, queues, job, PRIORITIES[i % 4]);
    const { events, sqsCalls } = start();
    await events.until('all jobs', () => events.items.filter((e) => e.type === 'finished').length === jobs.length);

    let running = 0;
    let peak = 0;
    for (const event of events.items) {
      if (event.type === 'started') peak = Math.max(peak, ++running);
      if (event.type === 'finished') running--;
    }
    expect(peak).toBe(3);
    // Receives reserve their slots: messages held plus messages asked for never exceed the concurrency.
    const receives = sqsCalls.items.filter((c) => c.command === 'ReceiveMessageCommand' && c.phase === 'sent');
    expect(receives.length).toBeGreaterThan(4);
    expect(Math.max(...receives.map((c) => c.held + c.inFlightMax))).toBeLessThanOrEqual(3);
    // A message is hidden for the agent's liveness window from its receipt (testConfig: 2 s), not the queue's default.
    expect(new Set(receives.map((c) => c.input.VisibilityTimeout))).toEqual(new Set([2]));
    const reports = await drainReports(queues);
    expect(new Set(reports.map((r) => r.jobId))).toEqual(new Set(jobs.map((j) => j.jobId)));
  });

  it('takes a job from any queue as soon as it arrives while idle', async () => {
    const { queues, start } = await h.setup({ idleWaitSeconds: 4 });
    const { events, sqsCalls } = start();
    // Idle: one long poll on every queue at once, rather than 4 s on each in turn.
    await sqsCalls.until('a long poll on every queue', () => sqsCalls.items.at(-1)?.inFlightLongPolls === 4);

    const job = dispatch();
    const sentAt = Date.now();
    await enqueue(h.client, queues, job, 'low');
    const received = await events.until('low job', () => events.items.find((e) => e.type === 'started' && e.job.taskToken === job.taskToken));
    expect(received.at - sentAt).toBeLessThan(2000);
  });

  it('backs off a queue whose receives fail without stalling the others', async () => {
    const { queues, start } = await h.setup();
    const startedAt = Date.now();
    const { events, sqsCalls } = start({ queueUrls: { ...queues.urls, low: `${queues.urls.low}-missing` } });
    const job = dispatch();
    await enqueue(h.client, queues, job, 'medium');

    expect(await finished(events, job.taskToken)).toMatchObject({ end: 'succeeded' });
    const failing = sqsCalls.items.filter((c) => c.phase === 'sent' && c.input.QueueUrl?.endsWith('-missing'));
    expect(failing.length).toBeGreaterThanOrEqual(1);
    // Backing off (at least 0.25 s, then 0.5 s, 1 s...) rather than spinning, which would make hundreds of calls.
    expect(failing.length).toBeLessThanOrEqual(2 + Math.log2(1 + (Date.now() - startedAt) / 250));
  });

  it('leaves a malformed message for the DLQ and keeps working', async () => {
    const { queues, start } = await h.setup({}, { visibilityTimeoutSeconds: 1, maxReceiveCount: 2 });
    await enqueue(h.client, queues, 'not json', 'critical');
    await enqueue(h.client, queues, JSON.stringify({ taskToken: 'x', command: 'true' }), 'critical');
    const good = dispatch();
    await enqueue(h.client, queues, good, 'critical');
    const { events } = start();

    expect(await finished(events, good.taskToken)).toMatchObject({ end: 'succeeded' });
    await events.until('malformed seen', () => events.items.filter((e) => e.type === 'finished' && e.end === 'malformed').length >= 2);
    // Never deleted, so after maxReceiveCount receives SQS moves both to the DLQ, where an operator finds them.
    const dead: string[] = [];
    await waitFor('both malformed messages in the DLQ', async () => {
      dead.push(...(await receiveAll(h.client, queues.dlqUrls.critical)).map((m) => m.Body!));
      return dead.length >= 2;
    }, 10_000, 100);
    expect(dead.sort()).toEqual([JSON.stringify({ taskToken: 'x', command: 'true' }), 'not json'].sort());
  });
});

async function drainReports(queues: TestQueues) {
  const all = [];
  for (let batch = await reportsIn(queues); batch.length > 0; batch = await reportsIn(queues)) all.push(...batch);
  return all;
}
