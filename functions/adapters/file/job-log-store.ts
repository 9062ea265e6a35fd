import { appendFile, mkdir, open, readdir, rm, rmdir, stat, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import * as z from 'zod';
import { InvalidCursorError } from '../../core/errors.ts';
import { batchProblem, outsideTimeWindow, type JobAttemptRef, type JobLogPage, type JobLogReader, type JobLogWriter, type LogEvent } from '../../core/job-logs.ts';
import { JOB_LOGS } from '../../declarations/job-logs.ts';

/** The error CloudWatch Logs answers a batch it refuses with; a client fault, so the agent does not retry it. */
export class InvalidParameterException extends Error {
  override name = 'InvalidParameterException';
  readonly $fault = 'client';
}

/** CloudWatch Logs answers a page of at most 1 MB; so does this store. */
const PAGE_MESSAGE_BYTES = 1_048_576;
const READ_BLOCK_BYTES = 256 * 1024;
const DAY_MS = 24 * 60 * 60 * 1000;
const JOB_ID = /^[A-Za-z0-9_-]{1,128}$/;
const TOKEN = /^\d{1,15}$/;
const LineSchema = z.strictObject({ t: z.number().int().nonnegative(), m: z.string().min(1) });

/**
 * The local runtime's stand-in for the job log group: a directory (`<FORGEFLOW_HOME>/job-logs`) with one file per
 * attempt, `<jobId>/<run>/<attempt>.ndjson`, one event per line, written by the local agents and read by the local
 * API. Hand-written because it must behave as CloudWatch Logs does (which no library emulates) for the same code:
 *  - an append is refused whole (InvalidParameterException) for what PutLogEvents refuses: empty, too many events,
 *    an event or a batch too large, out of time order, spanning over 24 h; events too old or too far ahead are
 *    refused one by one and counted, like rejectedLogEventsInfo;
 *  - a read returns at most `limit` events and about 1 MB from a token, the token of where it stopped, and whether
 *    that was the end; a missing stream is an empty page; a token that is not a boundary between two events of the
 *    stream is refused;
 *  - output older than the retention (JOB_LOGS.retentionDays) is deleted by `pruneExpired`, which `npm start` runs.
 * Files are 0600 in 0700 directories: jobs run as another user locally too, and must not read each other's output.
 */
export class FileJobLogStore implements JobLogWriter, JobLogReader {
  readonly visibilityLagMs = 0;

  constructor(
    private readonly dir: string,
    private readonly now: () => number = Date.now,
  ) {}

  async append(ref: JobAttemptRef, events: readonly LogEvent[]): Promise<{ rejectedEvents: number }> {
    const problem = batchProblem(events);
    if (problem) throw new InvalidParameterException(problem);
    const now = this.now();
    const accepted = events.filter((event) => !outsideTimeWindow(event, now));
    if (accepted.length > 0) {
      const file = this.fileOf(ref);
      await mkdir(dirname(file), { recursive: true, mode: 0o700 });
      // One write on an O_APPEND descriptor: two agents appending to one stream (a redelivered attempt) do not
      // interleave within a batch, and a reader never sees a line that is only half written as complete.
      await appendFile(file, accepted.map((event) => `${JSON.stringify({ t: event.timestamp, m: event.message })}\n`).join(''), { mode: 0o600 });
    }
    return { rejectedEvents: events.length - accepted.length };
  }

  async read(ref: JobAttemptRef, token: string | undefined, limit: number): Promise<JobLogPage> {
    if (token !== undefined && !TOKEN.test(token)) throw new InvalidCursorError();
    const offset = token === undefined ? 0 : Number(token);
    let handle: FileHandle;
    try {
      handle = await open(this.fileOf(ref), 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      // No stream yet (nothing printed), or one removed by the retention: a token into it no longer means anything.
      if (offset > 0) throw new InvalidCursorError();
      return { events: [], nextToken: token, atEnd: true };
    }
    try {
      return await readPage(handle, offset, limit);
    } finally {
      await handle.close();
    }
  }

  /** Deletes the attempts last written to before the retention period; returns how many. */
  async pruneExpired(): Promise<number> {
    const cutoff = this.now() - JOB_LOGS.retentionDays * DAY_MS;
    let removed = 0;
    for (const job of await entries(this.dir)) {
      const jobDir = join(this.dir, job);
      for (const run of await entries(jobDir)) {
        const runDir = join(jobDir, run);
        for (const attempt of await entries(runDir)) {
          const file = join(runDir, attempt);
          if ((await stat(file)).mtimeMs >= cutoff) continue;
          await rm(file, { force: true });
          removed++;
        }
        await rmdir(runDir).catch(() => undefined); // Only when empty: a newer attempt keeps it.
      }
      await rmdir(jobDir).catch(() => undefined);
    }
    return removed;
  }

  private fileOf(ref: JobAttemptRef): string {
    // The id becomes a path: anything but an id's alphabet could climb out of the store.
    if (!JOB_ID.test(ref.jobId) || !Number.isSafeInteger(ref.run) || ref.run < 1 || !Number.isSafeInteger(ref.attempt) || ref.attempt < 1) {
      throw new InvalidParameterException(`not a job attempt: ${JSON.stringify(ref)}`);
    }
    return join(this.dir, ref.jobId, String(ref.run), `${ref.attempt}.ndjson`);
  }
}

/** Complete lines from `offset` on; a line still being written (no newline yet) is left for the next read. */
async function readPage(handle: FileHandle, offset: number, limit: number): Promise<JobLogPage> {
  const { size } = await handle.stat();
  if (offset > size || (offset > 0 && !(await endsLine(handle, offset)))) throw new InvalidCursorError();
  const events: LogEvent[] = [];
  let consumed = 0;
  let messageBytes = 0;
  let pending = Buffer.alloc(0);
  let position = offset;
  let pageFull = false;
  const full = () => pageFull || events.length >= limit || messageBytes >= PAGE_MESSAGE_BYTES;
  while (!full() && position < size) {
    const block = Buffer.alloc(Math.min(READ_BLOCK_BYTES, size - position));
    const { bytesRead } = await handle.read(block, 0, block.length, position);
    if (bytesRead === 0) break;
    position += bytesRead;
    pending = pending.length === 0 ? block.subarray(0, bytesRead) : Buffer.concat([pending, block.subarray(0, bytesRead)]);
    for (let newline = pending.indexOf(0x0a); newline >= 0 && !full(); newline = pending.indexOf(0x0a)) {
      const event = parseLine(pending.subarray(0, newline));
      const bytes = event ? Buffer.byteLength(event.message, 'utf8') : 0;
      // As many events as fit in the page, and always one: the next read starts with the one left out.
      if (event && events.length > 0 && messageBytes + bytes > PAGE_MESSAGE_BYTES) {
        pageFull = true;
        break;
      }
      consumed += newline + 1;
      pending = pending.subarray(newline + 1);
      if (!event) continue;
      events.push(event);
      messageBytes += bytes;
    }
  }
  const next = offset + consumed;
  // At the end when every complete line was taken: what is left is at most a line still being written.
  const atEnd = !full() || !(await hasLineAfter(handle, next, size));
  return { events, nextToken: String(next), atEnd };
}

function parseLine(line: Buffer): LogEvent | undefined {
  try {
    const { t, m } = LineSchema.parse(JSON.parse(line.toString('utf8')));
    return { timestamp: t, message: m };
  } catch {
    // Only a file edited by hand has such a line; skipping it keeps the rest of the attempt readable.
    return undefined;
  }
}

async function endsLine(handle: FileHandle, offset: number): Promise<boolean> {
  const byte = Buffer.alloc(1);
  await handle.read(byte, 0, 1, offset - 1);
  return byte[0] === 0x0a;
}

async function hasLineAfter(handle: FileHandle, offset: number, size: number): Promise<boolean> {
  for (let position = offset; position < size; position += READ_BLOCK_BYTES) {
    const block = Buffer.alloc(Math.min(READ_BLOCK_BYTES, size - position));
    const { bytesRead } = await handle.read(block, 0, block.length, position);
    if (block.subarray(0, bytesRead).includes(0x0a)) return true;
  }
  return false;
}

async function entries(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
    throw error;
  }
}
