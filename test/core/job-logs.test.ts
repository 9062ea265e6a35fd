import { describe, expect, it } from 'vitest';
import { InvalidCursorError } from '../../functions/core/errors.ts';
import { decodeLogCursor, encodeLogCursor, readJobLog, startOfAttempt, type LogPosition } from '../../functions/core/job-log-reading.ts';
import {
  batchProblem,
  eventBytes,
  LOG_LIMITS,
  logStreamName,
  MAX_MESSAGE_BYTES,
  packBatches,
  splitMessage,
  type JobAttemptRef,
  type JobLogPage,
  type JobLogReader,
  type LogEvent,
} from '../../functions/core/job-logs.ts';
import type { JobRecord } from '../../functions/core/job.ts';

const T0 = 1_700_000_000_000;
const event = (message: string, timestamp = T0): LogEvent => ({ timestamp, message });

describe('splitMessage', () => {
  it('keeps a message within the limit whole', () => {
    expect(splitMessage('hello\n')).toEqual(['hello\n']);
    expect(splitMessage('x'.repeat(MAX_MESSAGE_BYTES))).toHaveLength(1);
  });

  it('cuts a message over the event limit into pieces that each fit, losing nothing', () => {
    const text = 'y'.repeat(MAX_MESSAGE_BYTES * 2 + 10);
    const pieces = splitMessage(text);
    expect(pieces.map((p) => Buffer.byteLength(p))).toEqual([MAX_MESSAGE_BYTES, MAX_MESSAGE_BYTES, 10]);
    expect(pieces.join('')).toBe(text);
    for (const piece of pieces) expect(eventBytes(event(piece))).toBeLessThanOrEqual(LOG_LIMITS.maxEventBytes);
  });

  it('never cuts inside a UTF-8 character', () => {
    // 'é' is 2 bytes, '€' 3, '😀' 4: with 7 bytes a piece, a blind cut would land inside each of them.
    const text = 'aé€😀'.repeat(50);
    const pieces = splitMessage(text, 7);
    expect(pieces.join('')).toBe(text);
    for (const piece of pieces) {
      expect(Buffer.byteLength(piece)).toBeLessThanOrEqual(7);
      expect(piece).not.toContain('\uFFFD');
    }
  });

  it('prefers to cut after a newline in the second half of a piece', () => {
    expect(splitMessage('aaaaaaa\nbbbbbbbbbb', 10)).toEqual(['aaaaaaa\n', 'bbbbbbbbbb']);
    // A newline early in the piece would make it too short: cut at the limit instead.
    expect(splitMessage('a\nbbbbbbbbbbbb', 10)).toEqual(['a\nbbbbbbbb', 'bbbb']);
  });
});

describe('packBatches', () => {
  it('puts at most 10,000 events in a batch, in order', () => {
    const events = Array.from({ length: 25_001 }, (_, i) => event(String(i), T0 + i));
    const batches = packBatches(events);
    expect(batches.map((b) => b.length)).toEqual([10_000, 10_000, 5_001]);
    expect(batches.flat()).toEqual(events);
  });

  it('keeps each batch within 1 MiB counting the 26 bytes of overhead per event', () => {
    const message = 'z'.repeat(100_000);
    const batches = packBatches(Array.from({ length: 25 }, () => event(message)));
    for (const batch of batches) {
      expect(batch.reduce((sum, e) => sum + eventBytes(e), 0)).toBeLessThanOrEqual(LOG_LIMITS.maxBatchBytes);
      expect(batchProblem(batch)).toBeUndefined();
    }
    // 10 events are 1,000,260 bytes; an 11th would pass 1,048,576.
    expect(batches.map((b) => b.length)).toEqual([10, 10, 5]);
  });

  it('starts a new batch rather than span more than 24 hours', () => {
    const batches = packBatches([event('a', T0), event('b', T0 + LOG_LIMITS.maxBatchSpanMs), event('c', T0 + LOG_LIMITS.maxBatchSpanMs + 1)]);
    expect(batches.map((b) => b.map((e) => e.message))).toEqual([['a', 'b'], ['c']]);
  });
});

describe('batchProblem: what PutLogEvents refuses', () => {
  it.each([
    ['no event', [], /at least one/],
    ['an empty message', [event('')], /empty/],
    ['an event over 256 KiB with its overhead', [event('x'.repeat(MAX_MESSAGE_BYTES + 1))], /too large/],
    ['events out of time order', [event('b', T0 + 1), event('a', T0)], /chronological/],
    ['more than 10,000 events', Array.from({ length: 10_001 }, () => event('x')), /10000/],
    ['more than 1 MiB', Array.from({ length: 5 }, () => event('x'.repeat(MAX_MESSAGE_BYTES))), /Upload too large/],
    ['a span over 24 hours', [event('a', T0), event('b', T0 + LOG_LIMITS.maxBatchSpanMs + 1)], /24 hours/],
  ])('%s', (_, events, problem) => {
    expect(batchProblem(events)).toMatch(problem);
  });

  it('takes a batch exactly at the limits', () => {
    expect(batchProblem([event('x'.repeat(MAX_MESSAGE_BYTES))])).toBeUndefined();
    expect(batchProblem(Array.from({ length: 10_000 }, () => event('x')))).toBeUndefined();
  });
});

describe('log cursors', () => {
  it('round-trip, and name the attempt stream with its run', () => {
    const position: LogPosition = { run: 2, attempt: 3, token: 'f/123', skip: 4, seq: 17 };
    expect(decodeLogCursor(encodeLogCursor(position))).toEqual(position);
    expect(logStreamName({ jobId: 'job_1', run: 2, attempt: 3 })).toBe('job_1/2/3');
  });

  it.each(['not-base64-json', Buffer.from('{"v":2,"r":1,"a":1,"k":0,"s":0}').toString('base64url'), Buffer.from('{"v":1,"r":0,"a":1,"k":0,"s":0}').toString('base64url')])(
    'refuses %s',
    (cursor) => {
      expect(() => decodeLogCursor(cursor)).toThrow(InvalidCursorError);
    },
  );
});

/** A reader over fixed streams, paging like GetLogEvents: numeric tokens, the same token back at the end. */
class MemoryReader implements JobLogReader {
  readonly streams = new Map<string, LogEvent[]>();
  visibilityLagMs = 0;
  calls = 0;
  append(ref: JobAttemptRef, ...messages: string[]) {
    const stream = this.streams.get(logStreamName(ref)) ?? [];
    stream.push(...messages.map((m) => event(m, T0 + stream.length)));
    this.streams.set(logStreamName(ref), stream);
  }
  async read(ref: JobAttemptRef, token: string | undefined, limit: number): Promise<JobLogPage> {
    this.calls++;
    const events = this.streams.get(logStreamName(ref)) ?? [];
    const from = Number(token ?? 0);
    const page = events.slice(from, from + limit);
    return { events: page, nextToken: String(from + page.length), atEnd: page.length === 0 };
  }
}

const job = (overrides: Partial<JobRecord> = {}): JobRecord =>
  ({ jobId: 'job_1', tenantId: 't', status: 'RUNNING', run: 1, attempts: 1, updatedAt: new Date(T0).toISOString(), ...overrides }) as JobRecord;
const texts = (read: Awaited<ReturnType<typeof readJobLog>>) => read.chunks.map(({ chunk }) => `${chunk.attempt}:${chunk.seq}:${chunk.text}`);

describe('readJobLog', () => {
  it('reads an attempt in order, numbering its chunks, and resumes after any chunk from that chunk\'s cursor', async () => {
    const reader = new MemoryReader();
    reader.append({ jobId: 'job_1', run: 1, attempt: 1 }, 'a', 'b', 'c');
    const all = await readJobLog(reader, job(), startOfAttempt(job()), 1_000_000, T0);
    expect(texts(all)).toEqual(['1:0:a', '1:1:b', '1:2:c']);
    expect(all.complete).toBe(false);
    const resumed = await readJobLog(reader, job(), decodeLogCursor(all.chunks[0]!.cursor), 1_000_000, T0);
    expect(texts(resumed)).toEqual(['1:1:b', '1:2:c']);
  });

  it('stops at the byte budget with at least one chunk, and goes on from there', async () => {
    const reader = new MemoryReader();
    reader.append({ jobId: 'job_1', run: 1, attempt: 1 }, 'x'.repeat(100), 'y'.repeat(100), 'z'.repeat(100));
    const first = await readJobLog(reader, job(), startOfAttempt(job()), 50, T0);
    expect(texts(first)).toEqual([`1:0:${'x'.repeat(100)}`]);
    const second = await readJobLog(reader, job(), first.next, 400, T0);
    expect(texts(second).map((t) => t.slice(0, 5))).toEqual(['1:1:y', '1:2:z']);
  });

  it('moves on into the later attempts of the run once an attempt is drained', async () => {
    const reader = new MemoryReader();
    reader.append({ jobId: 'job_1', run: 1, attempt: 1 }, 'first try');
    reader.append({ jobId: 'job_1', run: 1, attempt: 3 }, 'third try');
    // Attempt 2 printed nothing: its stream does not exist.
    const read = await readJobLog(reader, job({ attempts: 3 }), startOfAttempt(job(), 1), 1_000_000, T0);
    expect(texts(read)).toEqual(['1:0:first try', '3:0:third try']);
  });

  it('is complete only once the job is over, the last attempt is drained and the store had its lag', async () => {
    const reader = new MemoryReader();
    reader.append({ jobId: 'job_1', run: 1, attempt: 1 }, 'done');
    reader.visibilityLagMs = 1000;
    const running = await readJobLog(reader, job(), startOfAttempt(job()), 1_000_000, T0 + 5000);
    expect(running.complete).toBe(false);
    const ended = job({ status: 'SUCCEEDED' });
    expect((await readJobLog(reader, ended, startOfAttempt(ended), 1_000_000, T0 + 500)).complete).toBe(false);
    const settled = await readJobLog(reader, ended, startOfAttempt(ended), 1_000_000, T0 + 1000);
    expect(texts(settled)).toEqual(['1:0:done']);
    expect(settled.complete).toBe(true);
    expect((await readJobLog(reader, ended, settled.next, 1_000_000, T0 + 1000)).chunks).toEqual([]);
  });

  it("continues a cursor of an earlier run into the current run's first attempt", async () => {
    const reader = new MemoryReader();
    reader.append({ jobId: 'job_1', run: 2, attempt: 1 }, 'second run');
    const read = await readJobLog(reader, job({ run: 2, attempts: 1 }), { run: 1, attempt: 1, skip: 0, seq: 0 }, 1_000_000, T0);
    expect(texts(read)).toEqual(['1:0:second run']);
  });

  it('refuses a cursor ahead of the job', async () => {
    const reader = new MemoryReader();
    await expect(readJobLog(reader, job(), { run: 1, attempt: 2, skip: 0, seq: 0 }, 1000, T0)).rejects.toThrow(InvalidCursorError);
    await expect(readJobLog(reader, job(), { run: 2, attempt: 1, skip: 0, seq: 0 }, 1000, T0)).rejects.toThrow(InvalidCursorError);
  });
});
