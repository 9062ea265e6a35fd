import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LogShipper, type LogShipperOptions } from '../../agent/log-shipper.ts';
import { batchProblem, LOG_LIMITS, type JobAttemptRef, type JobLogWriter, type LogEvent } from '../../functions/core/job-logs.ts';

const T0 = Date.UTC(2030, 0, 1);
const REF: JobAttemptRef = { jobId: 'job_1', run: 1, attempt: 2 };

/** A store that records each batch; `next` decides what each call does (default: accept). */
class FakeWriter implements JobLogWriter {
  readonly batches: LogEvent[][] = [];
  calls = 0;
  next: Array<() => Promise<{ rejectedEvents: number }>> = [];
  always?: () => Promise<{ rejectedEvents: number }>;
  async append(ref: JobAttemptRef, events: readonly LogEvent[]) {
    expect(ref).toEqual(REF);
    // Every batch the shipper makes must be one CloudWatch Logs takes.
    expect(batchProblem(events)).toBeUndefined();
    this.calls++;
    const behaviour = this.next.shift() ?? this.always;
    const answer = behaviour ? await behaviour() : { rejectedEvents: 0 };
    this.batches.push([...events]);
    return answer;
  }
  get text() {
    return this.batches.flat().map((e) => e.message).join('');
  }
}

const throttled = () => Promise.reject(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $fault: 'client' }));
const down = () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { name: 'Error' }));

let writer: FakeWriter;
let warnings: { message: string; details: Record<string, unknown> }[];
const shipper = (options: Partial<LogShipperOptions> = {}) =>
  new LogShipper({ writer, ref: REF, warn: (message, details) => warnings.push({ message, details }), retry: { attempts: 3, baseDelayMs: 100 }, ...options });
const out = (text: string) => Buffer.from(text, 'utf8');

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
  writer = new FakeWriter();
  warnings = [];
});
afterEach(() => vi.useRealTimers());

describe('LogShipper: batching', () => {
  it('holds output for 500 ms after its first byte, then sends it as one event stamped with that first byte', async () => {
    const logs = shipper();
    logs.write(out('one\n'), 'stdout');
    await vi.advanceTimersByTimeAsync(200);
    logs.write(out('two\n'), 'stderr');
    await vi.advanceTimersByTimeAsync(299);
    expect(writer.calls).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(writer.batches).toEqual([[{ timestamp: T0, message: 'one\ntwo\n' }]]);
  });

  it('sends at once when 64 KiB are held, without waiting for the timer', async () => {
    const logs = shipper();
    logs.write(out('a'.repeat(40 * 1024)), 'stdout');
    await vi.advanceTimersByTimeAsync(0);
    expect(writer.calls).toBe(0);
    logs.write(out('b'.repeat(24 * 1024)), 'stdout');
    await vi.advanceTimersByTimeAsync(0);
    expect(writer.batches.map((b) => b.map((e) => e.message.length))).toEqual([[64 * 1024]]);
  });

  it('cuts a chunk over the event limit into events that fit, in order, losing nothing', async () => {
    const text = 'line of output\n'.repeat(40_000); // 600,000 bytes
    const logs = shipper();
    logs.write(out(text), 'stdout');
    await logs.close();
    const events = writer.batches.flat();
    expect(events.length).toBe(3);
    for (const event of events) expect(Buffer.byteLength(event.message) + LOG_LIMITS.eventOverheadBytes).toBeLessThanOrEqual(LOG_LIMITS.maxEventBytes);
    expect(writer.text).toBe(text);
  });

  it('keeps one call in flight: later output waits, and arrives after, in time order', async () => {
    let release!: () => void;
    writer.next.push(() => new Promise((resolve) => (release = () => resolve({ rejectedEvents: 0 }))));
    const logs = shipper();
    logs.write(out('first\n'), 'stdout');
    await vi.advanceTimersByTimeAsync(500);
    logs.write(out('second\n'), 'stdout');
    await vi.advanceTimersByTimeAsync(500);
    logs.write(out('third\n'), 'stdout');
    await vi.advanceTimersByTimeAsync(500);
    expect(writer.calls).toBe(1);
    release();
    await vi.advanceTimersByTimeAsync(0);
    expect(writer.batches.map((b) => b.map((e) => e.message))).toEqual([['first\n'], ['second\n', 'third\n']]);
    const stamps = writer.batches.flat().map((e) => e.timestamp);
    expect(stamps).toEqual([T0, T0 + 500, T0 + 1000]);
  });

  it("joins a character split across two reads of one pipe, whatever the other pipe printed in between", async () => {
    const euro = Buffer.from('€', 'utf8');
    const logs = shipper();
    logs.write(euro.subarray(0, 1), 'stdout');
    logs.write(out('err\n'), 'stderr');
    logs.write(euro.subarray(1), 'stdout');
    await logs.close();
    expect(writer.text).toBe('err\n€');
  });

  it('keeps timestamps in order when the clock steps back', async () => {
    const logs = shipper();
    logs.write(out('a'), 'stdout');
    await vi.advanceTimersByTimeAsync(500);
    vi.setSystemTime(T0 - 60_000);
    logs.write(out('b'), 'stdout');
    await logs.close();
    expect(writer.batches.flat().map((e) => e.timestamp)).toEqual([T0, T0]);
  });
});

describe('LogShipper: when the store fails', () => {
  it('retries a throttled batch with backoff and delivers it once', async () => {
    writer.next.push(throttled, throttled);
    const logs = shipper();
    logs.write(out('hello\n'), 'stdout');
    await vi.advanceTimersByTimeAsync(500);
    expect(writer.calls).toBe(1);
    await vi.advanceTimersByTimeAsync(400);
    expect(writer.text).toBe('hello\n');
    expect(writer.calls).toBe(3);
    expect((await logs.close()).droppedEvents).toBe(0);
    expect(warnings).toEqual([]);
  });

  it('drops a batch the store keeps failing, warns with counts, and says so in the next batch that gets through', async () => {
    writer.next.push(down, down, down);
    const logs = shipper();
    logs.write(out('lost\n'), 'stdout');
    await vi.advanceTimersByTimeAsync(2000);
    expect(writer.calls).toBe(3);
    expect(warnings).toEqual([expect.objectContaining({ message: expect.stringMatching(/did not take a batch/), details: expect.objectContaining({ droppedEvents: 1, droppedBytes: 5 }) })]);
    logs.write(out('kept\n'), 'stdout');
    const stats = await logs.close();
    expect(writer.batches.at(-1)!.map((e) => e.message)).toEqual([expect.stringMatching(/^\[forgeflow\] 1 chunk\(s\) of output \(5 bytes\) were not stored/), 'kept\n']);
    expect(stats).toMatchObject({ droppedEvents: 1, droppedBytes: 5 });
  });

  it('does not retry what the store refuses for good', async () => {
    writer.next.push(() => Promise.reject(Object.assign(new Error('bad'), { name: 'InvalidParameterException', $fault: 'client' })));
    const logs = shipper();
    logs.write(out('x\n'), 'stdout');
    const stats = await logs.close();
    expect(writer.calls).toBe(1);
    expect(stats.droppedEvents).toBe(1);
  });

  it('counts events the store refused one by one as dropped', async () => {
    writer.next.push(() => Promise.resolve({ rejectedEvents: 1 }));
    const logs = shipper();
    logs.write(out('x\n'), 'stdout');
    expect(await logs.close()).toMatchObject({ events: 0, droppedEvents: 1 });
  });

  it('bounds what waits for a store that does not answer, dropping the oldest, and gives up at close after its timeout', async () => {
    writer.always = () => new Promise(() => {}); // Hangs: never answers.
    const logs = shipper({ maxQueuedBytes: 256 * 1024 });
    for (let i = 0; i < 40; i++) {
      logs.write(out(`${String(i).padStart(4, '0')}${'.'.repeat(32 * 1024)}`), 'stdout');
      await vi.advanceTimersByTimeAsync(500);
    }
    // One batch is in flight, the queue holds at most 256 KiB: the rest was dropped, with one warning for it.
    expect(warnings.filter((w) => /not keeping up/.test(w.message))).toHaveLength(1);
    const closing = logs.close(3000);
    await vi.advanceTimersByTimeAsync(3000);
    const stats = await closing;
    // Everything counts as dropped, the batch still in flight too: nothing was confirmed.
    expect(stats.events).toBe(0);
    expect(stats.droppedEvents).toBe(40);
    expect(warnings.at(-1)).toMatchObject({ message: 'some of the job output was not stored', details: { droppedEvents: 40 } });
  });

  it('never throws into the job, whatever the store does', async () => {
    const broken: JobLogWriter = {
      append: () => {
        throw new TypeError('a bug in the store');
      },
    };
    const logs = shipper({ writer: broken });
    expect(() => logs.write(out('x'), 'stdout')).not.toThrow();
    const closing = logs.close();
    await vi.advanceTimersByTimeAsync(1000); // Its retries' backoff.
    await expect(closing).resolves.toMatchObject({ droppedEvents: 1 });
  });
});

describe('LogShipper: close', () => {
  it('sends what is held at once and resolves only when the store has it', async () => {
    let release!: () => void;
    writer.next.push(() => new Promise((resolve) => (release = () => resolve({ rejectedEvents: 0 }))));
    const logs = shipper();
    logs.write(out('last words\n'), 'stdout');
    let closed = false;
    const closing = logs.close().then(() => (closed = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(writer.calls).toBe(1);
    expect(closed).toBe(false);
    release();
    await closing;
    expect(writer.text).toBe('last words\n');
    // Output after close is not taken: the attempt is over.
    logs.write(out('late'), 'stdout');
    await vi.advanceTimersByTimeAsync(1000);
    expect(writer.calls).toBe(1);
  });
});
