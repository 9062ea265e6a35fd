import { packInOrder } from './batches.ts';

/**
 * A job's output while it runs: the agent appends each attempt's output in batches of events, the API reads them back
 * from a cursor. The ports are shaped after CloudWatch Logs (PutLogEvents, GetLogEvents), whose limits are declared
 * here once: the agent's chunker packs to them and the local file store refuses what CloudWatch Logs would refuse.
 */

/** One attempt of one run of a job: the unit a log stream holds. */
export interface JobAttemptRef {
  jobId: string;
  run: number;
  attempt: number;
}

/**
 * The stream of one attempt. The run is part of the name: a retry (`POST …/retry`) starts a new run whose attempts
 * count from 1 again, and its output must not land in the stream of the earlier run's attempt of the same number.
 */
export function logStreamName(ref: JobAttemptRef): string {
  return `${ref.jobId}/${ref.run}/${ref.attempt}`;
}

/** One chunk of output: when it was printed (epoch ms) and the text (stdout and stderr interleaved). */
export interface LogEvent {
  timestamp: number;
  message: string;
}

/** PutLogEvents' limits (CloudWatch Logs API reference, PutLogEvents; quotas). */
export const LOG_LIMITS = {
  /** The batch: the sum of the messages' UTF-8 bytes plus the overhead of each event. */
  maxBatchBytes: 1_048_576,
  maxBatchEvents: 10_000,
  /** One event, its overhead included. */
  maxEventBytes: 262_144,
  eventOverheadBytes: 26,
  /** The events of one batch may not span more than 24 hours. */
  maxBatchSpanMs: 24 * 60 * 60 * 1000,
  /** Events older than 14 days or more than 2 hours ahead are refused one by one (rejectedLogEventsInfo). */
  maxPastMs: 14 * 24 * 60 * 60 * 1000,
  maxFutureMs: 2 * 60 * 60 * 1000,
} as const;

/** Whether CloudWatch Logs would refuse this event on its own for its time (the rest of its batch is accepted). */
export function outsideTimeWindow(event: LogEvent, now: number): boolean {
  return event.timestamp < now - LOG_LIMITS.maxPastMs || event.timestamp > now + LOG_LIMITS.maxFutureMs;
}

/** The most UTF-8 bytes a message may have. */
export const MAX_MESSAGE_BYTES = LOG_LIMITS.maxEventBytes - LOG_LIMITS.eventOverheadBytes;

/** An event's size as CloudWatch Logs counts it against the batch and event limits. */
export function eventBytes(event: LogEvent): number {
  return Buffer.byteLength(event.message, 'utf8') + LOG_LIMITS.eventOverheadBytes;
}

/**
 * Cuts text into messages of at most `maxBytes` UTF-8 bytes, never inside a character: a long chunk of output
 * becomes several events rather than one CloudWatch Logs would refuse. Prefers to cut after a newline when one
 * lies in the second half of a piece, so that lines survive whole where they can.
 */
export function splitMessage(text: string, maxBytes: number = MAX_MESSAGE_BYTES): string[] {
  if (maxBytes < 4) throw new RangeError(`maxBytes must be at least 4 (one character), got ${maxBytes}`);
  const bytes = Buffer.from(text, 'utf8');
  const pieces: string[] = [];
  let start = 0;
  while (bytes.length - start > maxBytes) {
    let end = start + maxBytes;
    // Back off continuation bytes (10xxxxxx) so the cut lands on a character boundary.
    while ((bytes[end]! & 0xc0) === 0x80) end--;
    const newline = bytes.lastIndexOf(0x0a, end - 1);
    if (newline >= start + maxBytes / 2) end = newline + 1;
    pieces.push(bytes.subarray(start, end).toString('utf8'));
    start = end;
  }
  if (start < bytes.length) pieces.push(bytes.subarray(start).toString('utf8'));
  return pieces;
}

/**
 * Packs events, already in time order and each within the event limit, into as few PutLogEvents batches as the
 * count, byte and time-span limits allow, keeping their order.
 */
export function packBatches(events: readonly LogEvent[]): LogEvent[][] {
  return packInOrder(events, {
    maxCount: LOG_LIMITS.maxBatchEvents,
    maxBytes: LOG_LIMITS.maxBatchBytes,
    sizeOf: eventBytes,
    splitBefore: (first, event) => event.timestamp - first.timestamp > LOG_LIMITS.maxBatchSpanMs,
  });
}

/** Why CloudWatch Logs would refuse this batch as a whole, or undefined when it would take it. */
export function batchProblem(events: readonly LogEvent[]): string | undefined {
  if (events.length === 0) return 'a batch needs at least one event';
  if (events.length > LOG_LIMITS.maxBatchEvents) return `${events.length} events exceed the limit of ${LOG_LIMITS.maxBatchEvents} per batch`;
  let total = 0;
  for (const [i, event] of events.entries()) {
    if (!Number.isSafeInteger(event.timestamp) || event.timestamp < 0) return `event ${i} has no valid timestamp`;
    if (event.message.length === 0) return `event ${i} has an empty message`;
    const size = eventBytes(event);
    if (size > LOG_LIMITS.maxEventBytes) return `Log event too large: event ${i} is ${size} bytes, over the limit of ${LOG_LIMITS.maxEventBytes}`;
    if (i > 0 && event.timestamp < events[i - 1]!.timestamp) return 'Log events in a single PutLogEvents request must be in chronological order';
    total += size;
  }
  if (total > LOG_LIMITS.maxBatchBytes) return `Upload too large: ${total} bytes exceed the limit of ${LOG_LIMITS.maxBatchBytes}`;
  if (events.at(-1)!.timestamp - events[0]!.timestamp > LOG_LIMITS.maxBatchSpanMs) return 'A batch of log events cannot span more than 24 hours';
  return undefined;
}

/** Where the agent appends an attempt's output. One call is one PutLogEvents: the batch must be within LOG_LIMITS. */
export interface JobLogWriter {
  /** Creates the attempt's stream on first use. Resolves with how many events the store refused on their own. */
  append(ref: JobAttemptRef, events: readonly LogEvent[]): Promise<{ rejectedEvents: number }>;
}

/** One page of an attempt's stream. */
export interface JobLogPage {
  /** In stream order. */
  events: LogEvent[];
  /** Where the next read starts: the store's own token, opaque to everyone else. */
  nextToken: string | undefined;
  /** Nothing was found after `nextToken` at the time of the read (the stream may still grow). */
  atEnd: boolean;
}

/** Where the API reads an attempt's output from. */
export interface JobLogReader {
  /**
   * Up to `limit` events from `token` (the start of the stream when undefined). A stream that does not exist (the
   * attempt printed nothing yet) is an empty page at its end. A token the store does not know throws
   * InvalidCursorError.
   */
  read(ref: JobAttemptRef, token: string | undefined, limit: number): Promise<JobLogPage>;
  /** How long after an accepted append a read may still miss it (CloudWatch Logs ingests asynchronously). */
  readonly visibilityLagMs: number;
}
