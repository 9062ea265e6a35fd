import { afterEach, describe, expect, it, vi } from 'vitest';
import { toPutEventsEntry } from '../../functions/adapters/eventbridge/event-publisher.ts';
import { jobEvent, workerEvent, type EventEnvelope } from '../../functions/core/events.ts';
import { LocalEventBus } from '../../local/event-bus.ts';
import { followJobEvents, START_HOLD_MS } from '../../local/job-follower.ts';
import { ANSI_PATTERN } from '../../local/terminal-style.ts';
import { sampleEvent, sampleJob } from '../support/events.ts';

const BUS = 'forgeflow-test';
/** An entry as the SDK sends it over the wire: Time in epoch seconds. */
const entryOf = (event: EventEnvelope) => ({ ...toPutEventsEntry(BUS, event), Time: Date.parse(event.time) / 1000 });
const succeeded = (jobId: string) =>
  jobEvent('JobSucceeded', { ...sampleJob(jobId), status: 'SUCCEEDED', attempts: 1 }, 'RUNNING', { result: { exitCode: 0, durationMs: 40, outputTail: 'hi' } }, { time: new Date().toISOString(), correlationId: 'c' });

function follow(options: { format?: 'human' | 'json'; color?: boolean } = {}) {
  const bus = new LocalEventBus(BUS, [], () => async () => {});
  const lines: string[] = [];
  const follower = followJobEvents(bus, { format: options.format ?? 'human', color: options.color ?? false, write: (l) => lines.push(l) });
  return { bus, lines, follower };
}

describe('Local: following job state changes on the bus', () => {
  afterEach(() => vi.useRealTimers());

  it('prints each event once, though the bus accepts it again (optimistic publish, relay, retries)', async () => {
    const { bus, lines } = follow();
    const queued = sampleEvent(sampleJob('job_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'));
    const done = succeeded('job_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa');

    await bus.putEvents([entryOf(queued)]);
    await bus.putEvents([entryOf(queued), entryOf(done)]);
    await bus.putEvents([entryOf(done), entryOf(done)]);

    expect(bus.published).toBe(5);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain('→ QUEUED');
    expect(lines[1]).toContain('RUNNING → SUCCEEDED  exit 0 in 40 ms');
  });

  it('ignores worker events and whatever else the bus carries', async () => {
    const { bus, lines, follower } = follow();
    const worker = workerEvent('WorkerReady', { workerId: 'w-1', class: 'default', state: 'READY' }, 'BOOTING', {}, { time: new Date().toISOString(), correlationId: 'c' });

    await bus.putEvents([entryOf(worker), { Source: 'elsewhere', DetailType: 'x', Detail: '{"id":"1"}' }]);

    expect(lines).toEqual([]);
    expect(follower.handle(undefined)).toBe(false);
  });

  it('prints without colour codes unless asked, and JSON records in JSON mode', async () => {
    const plain = follow({ color: false });
    const coloured = follow({ color: true });
    const json = follow({ format: 'json', color: false });
    const event = succeeded('job_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb');

    for (const f of [plain, coloured, json]) f.follower.handle(event);

    expect(plain.lines[0]).not.toMatch(ANSI_PATTERN);
    expect(coloured.lines[0]).toMatch(ANSI_PATTERN);
    expect(JSON.parse(json.lines[0]!)).toMatchObject({ level: 'INFO', eventId: event.id, jobId: 'job_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', from: 'RUNNING', to: 'SUCCEEDED', exitCode: 0 });
  });

  /** A job's four events of a run, created in the order they happen (so their ids are in that order too). */
  function run(jobId: string) {
    const at = { time: new Date().toISOString(), correlationId: 'c' };
    const job = sampleJob(jobId);
    const queued = sampleEvent(job);
    const dispatched = jobEvent('JobDispatched', { ...job, status: 'DISPATCHED' }, 'QUEUED', {}, at);
    const running = jobEvent('JobRunning', { ...job, status: 'RUNNING' }, 'DISPATCHED', { workerId: 'w-1' }, at);
    const done = jobEvent('JobSucceeded', { ...job, status: 'SUCCEEDED', attempts: 1 }, 'RUNNING', { result: { exitCode: 0, durationMs: 4, outputTail: '' } }, at);
    return { queued, dispatched, running, done };
  }
  const transitions = (lines: string[]) => lines.map((l) => /(\S+ )?→ \S+/.exec(l)![0]);

  it("prints a job's end after its start when the end reached the bus first (the start comes by the jobs stream)", async () => {
    const { bus, lines, follower } = follow();
    const { queued, dispatched, running, done } = run('job_ffffffffffffffffffffffffffffffff');
    const ending = follower.waitForEnd('job_ffffffffffffffffffffffffffffffff', 60_000);

    await bus.putEvents([entryOf(queued), entryOf(dispatched), entryOf(done)]);
    expect(transitions(lines)).toEqual(['→ QUEUED', 'QUEUED → DISPATCHED']);
    await bus.putEvents([entryOf(running)]);

    expect(transitions(lines)).toEqual(['→ QUEUED', 'QUEUED → DISPATCHED', 'DISPATCHED → RUNNING', 'RUNNING → SUCCEEDED']);
    expect((await ending)?.id).toBe(done.id);
  });

  it('prints a held end anyway once START_HOLD_MS passes without the start, and at stop', async () => {
    vi.useFakeTimers();
    const { bus, lines, follower } = follow();
    const first = run('job_gggggggggggggggggggggggggggggggg');
    const second = run('job_hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh');
    await bus.putEvents([entryOf(first.dispatched), entryOf(first.done)]);
    await vi.advanceTimersByTimeAsync(START_HOLD_MS / 2);
    await bus.putEvents([entryOf(second.dispatched), entryOf(second.done)]);
    expect(transitions(lines)).toEqual(['QUEUED → DISPATCHED', 'QUEUED → DISPATCHED']);

    await vi.advanceTimersByTimeAsync(START_HOLD_MS / 2);
    expect(transitions(lines)).toEqual(['QUEUED → DISPATCHED', 'QUEUED → DISPATCHED', 'RUNNING → SUCCEEDED']);
    expect(lines[2]).toContain('job_gggggggg');
    follower.stop();
    expect(transitions(lines)).toHaveLength(4);
    expect(lines[3]).toContain('job_hhhhhhhh');
  });

  it('tells a waiter when its job ends, even when the end came first', async () => {
    const { bus, follower } = follow();
    const waiting = follower.waitForEnd('job_cccccccccccccccccccccccccccccccc', 60_000);

    await bus.putEvents([entryOf(sampleEvent(sampleJob('job_cccccccccccccccccccccccccccccccc')))]);
    await bus.putEvents([entryOf(succeeded('job_cccccccccccccccccccccccccccccccc'))]);

    expect((await waiting)?.type).toBe('JobSucceeded');
    expect((await follower.waitForEnd('job_cccccccccccccccccccccccccccccccc', 0))?.type).toBe('JobSucceeded');
  });

  it('gives up on a job that does not end in time, and on stop', async () => {
    vi.useFakeTimers();
    const { bus, lines, follower } = follow();
    const late = follower.waitForEnd('job_dddddddddddddddddddddddddddddddd', 1000);
    const pending = follower.waitForEnd('job_eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee', 60_000);

    await vi.advanceTimersByTimeAsync(1000);
    follower.stop();
    await bus.putEvents([entryOf(succeeded('job_eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee'))]);

    expect(await late).toBeUndefined();
    expect(await pending).toBeUndefined();
    expect(lines).toEqual([]);
  });
});
