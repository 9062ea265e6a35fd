import * as z from 'zod';
import { InvalidCursorError } from './errors.ts';
import { decodeOpaqueCursor, encodeOpaqueCursor } from './opaque-cursor.ts';
import type { JobLogReader, LogEvent } from './job-logs.ts';
import { isTerminal } from './job-status.ts';
import type { JobRecord } from './job.ts';

/**
 * Reading a job's output from a cursor. A cursor walks the job's current run: through the attempt it starts in, then
 * on into later attempts as the job retries, so one follow sees the whole run. It is opaque to clients and stateless
 * for us: where it stands in which attempt's stream, and how many chunks of that attempt came before (their `seq`).
 */
export interface LogPosition {
  run: number;
  attempt: number;
  /** The store's token of the page the position is in; undefined: the stream's start. */
  token?: string;
  /** Events of that page already returned: a response ends where a byte budget says, not at a page's end. */
  skip: number;
  /** The `seq` of the next chunk of this attempt. */
  seq: number;
}

/** One chunk as the API returns it. */
export interface JobLogChunk {
  attempt: number;
  seq: number;
  timestamp: string;
  text: string;
}

export interface JobLogRead {
  /** Each chunk with the cursor that continues after it (a server-sent event's id). */
  chunks: { chunk: JobLogChunk; cursor: string }[];
  /** Where the next read starts. */
  next: LogPosition;
  /** True once the job is over and nothing of it is left to read: no chunk will ever follow. */
  complete: boolean;
}

/** Events asked of the store per call; a page is at most 1 MB in CloudWatch Logs anyway. */
const PAGE_EVENTS = 500;
/** Store calls one read may make: empty pages (CloudWatch may return some) and attempt changes each take one. */
const MAX_CALLS = 8;

const PositionSchema = z.strictObject({
  v: z.literal(1),
  r: z.number().int().positive(),
  a: z.number().int().positive(),
  t: z.string().min(1).max(2048).optional(),
  k: z.number().int().nonnegative().max(100_000),
  s: z.number().int().nonnegative(),
});

export function encodeLogCursor(position: LogPosition): string {
  const { run: r, attempt: a, token: t, skip: k, seq: s } = position;
  return encodeOpaqueCursor({ v: 1, r, a, ...(t === undefined ? {} : { t }), k, s });
}

export function decodeLogCursor(cursor: string): LogPosition {
  const { r, a, t, k, s } = decodeOpaqueCursor(cursor, PositionSchema);
  return { run: r, attempt: a, ...(t === undefined ? {} : { token: t }), skip: k, seq: s };
}

/** The start of an attempt of the job's current run: by default the current attempt (1 before the first starts). */
export function startOfAttempt(job: JobRecord, attempt = Math.max(1, job.attempts)): LogPosition {
  return { run: job.run, attempt, skip: 0, seq: 0 };
}

/**
 * Reads from `from` until `budgetBytes` of chunks (as JSON) are gathered, or the job's output runs out for now. At
 * least one chunk is returned when one is there, whatever its size, so a read always moves on. `now` (epoch ms)
 * decides whether a finished job's last appends may still be on their way into the store (its visibility lag).
 */
export async function readJobLog(reader: JobLogReader, job: JobRecord, from: LogPosition, budgetBytes: number, now: number): Promise<JobLogRead> {
  // A cursor ahead of the job was not made for it: it could only wait forever.
  if (from.run > job.run || (from.run === job.run && from.attempt > Math.max(1, job.attempts))) throw new InvalidCursorError();
  const chunks: JobLogRead['chunks'] = [];
  let position = from;
  let bytes = 0;
  for (let call = 0; call < MAX_CALLS; call++) {
    const page = await reader.read({ jobId: job.jobId, run: position.run, attempt: position.attempt }, position.token, PAGE_EVENTS);
    const fresh = page.events.slice(position.skip);
    let taken = 0;
    for (const event of fresh) {
      const chunk = toChunk(position.attempt, position.seq + taken, event);
      const size = JSON.stringify(chunk).length;
      if (chunks.length > 0 && bytes + size > budgetBytes) break;
      taken++;
      bytes += size;
      const after = taken === fresh.length ? { ...position, token: page.nextToken, skip: 0 } : { ...position, skip: position.skip + taken };
      chunks.push({ chunk, cursor: encodeLogCursor({ ...after, seq: position.seq + taken }) });
    }
    if (taken < fresh.length) return { chunks, next: { ...position, skip: position.skip + taken, seq: position.seq + taken }, complete: false };
    position = { ...position, token: page.nextToken, skip: 0, seq: position.seq + taken };
    // Not at the end: more in this stream, or an empty page that moved the token on (CloudWatch Logs skips through
    // time this way). Only a read that found nothing more may conclude that the attempt is drained.
    if (!page.atEnd) continue;
    const later = laterAttempt(job, position);
    if (!later) return { chunks, next: position, complete: isComplete(reader, job, position, now) };
    position = later;
  }
  return { chunks, next: position, complete: false };
}

/** The attempt a drained position moves on to, if the job has gone on since. */
function laterAttempt(job: JobRecord, position: LogPosition): LogPosition | undefined {
  // A retry started a new run: its output is what follows (the cursor keeps to the job's current run).
  if (position.run < job.run) return startOfAttempt(job, 1);
  if (position.run === job.run && position.attempt < job.attempts) return { run: job.run, attempt: position.attempt + 1, skip: 0, seq: 0 };
  return undefined;
}

/**
 * Whether nothing more can come at a drained position: the job is over, the position is in its last attempt, and
 * the store had the time to show the attempt's last appends (the agent sends them before it answers its task).
 */
function isComplete(reader: JobLogReader, job: JobRecord, position: LogPosition, now: number): boolean {
  if (!isTerminal(job.status) || position.run !== job.run || position.attempt < job.attempts) return false;
  return now - Date.parse(job.updatedAt) >= reader.visibilityLagMs;
}

function toChunk(attempt: number, seq: number, event: LogEvent): JobLogChunk {
  return { attempt, seq, timestamp: new Date(event.timestamp).toISOString(), text: event.message };
}
