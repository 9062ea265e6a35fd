import { StringDecoder } from 'node:string_decoder';
import { eventBytes, packBatches, splitMessage, type JobAttemptRef, type JobLogWriter, type LogEvent } from '../functions/core/job-logs.ts';
import { errorMessage, errorName, withRetries, type RetryOptions } from './retry.ts';

export interface LogShipperOptions {
  writer: JobLogWriter;
  ref: JobAttemptRef;
  /** Told when output is given up; the shipper itself never throws into the job. */
  warn: (message: string, details: Record<string, unknown>) => void;
  /** Output is held at most this long before it is sent (default 500 ms)… */
  flushIntervalMs?: number;
  /** …or until this much is held (default 64 KiB), whichever comes first. */
  flushBytes?: number;
  /** Output waiting for the store beyond this is dropped, oldest first (default 4 MiB). */
  maxQueuedBytes?: number;
  /** Tries of one batch, with exponential backoff and jitter, before it is dropped. */
  retry?: Omit<RetryOptions, 'onRetry'>;
  now?: () => number;
}

export interface ShipStats {
  /** Events and message bytes the store accepted. */
  events: number;
  bytes: number;
  batches: number;
  /** Events and message bytes given up: the store refused them or stayed down, or the queue was full. */
  droppedEvents: number;
  droppedBytes: number;
}

const DEFAULTS = { flushIntervalMs: 500, flushBytes: 64 * 1024, maxQueuedBytes: 4 * 1024 * 1024, retry: { attempts: 5, baseDelayMs: 250 } };

/**
 * Ships one attempt's output to the job log store while the job runs (the API's `GET …/logs` reads it back).
 *
 * Output is batched by time: held until `flushIntervalMs` after its first byte or until `flushBytes` are held, then
 * cut into events that fit CloudWatch Logs' limits (splitMessage) and sent in batches that fit them (packBatches),
 * one call at a time so events reach the store in order. A chatty job makes about two calls a second, not one per
 * line. Hand-written: the CloudWatch Logs transports for Node (winston-cloudwatch and the like) are loggers for the
 * process itself and block, buffer without bound or throw when the service is down, which a job must never feel.
 *
 * The job never waits for the store and never sees its failures: a failed batch is retried with backoff, then dropped
 * with a warning; while the store is down output queues up to `maxQueuedBytes`, and beyond that the oldest is dropped.
 * Drops are counted, and the next batch that gets through starts with a line saying how much was lost. The result's
 * output tail does not depend on any of this.
 */
export class LogShipper {
  private readonly options: Required<Omit<LogShipperOptions, 'retry'>> & { retry: Omit<RetryOptions, 'onRetry'> };
  private readonly decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
  private pending = '';
  private pendingBytes = 0;
  private pendingSince = 0;
  private lastTimestamp = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly queue: LogEvent[] = [];
  private queuedBytes = 0;
  private sending: Promise<void> | undefined;
  /** The batch being sent: given up with the queue when close times out (it may still land, unconfirmed). */
  private inFlight: LogEvent[] = [];
  private closed = false;
  private abandoned = false;
  private warnedOverflow = false;
  /** Drops no batch that reached the store has mentioned yet. */
  private unreported = { events: 0, bytes: 0 };
  private readonly stats: ShipStats = { events: 0, bytes: 0, batches: 0, droppedEvents: 0, droppedBytes: 0 };

  constructor(options: LogShipperOptions) {
    this.options = { ...DEFAULTS, now: Date.now, ...options };
  }

  /** Takes a chunk of the job's output as it arrives. Never throws. */
  write(chunk: Buffer, stream: 'stdout' | 'stderr'): void {
    if (this.closed) return;
    // One decoder per stream: a character split across two reads of one pipe is joined, whatever the other printed.
    this.add(this.decoders[stream].write(chunk));
  }

  /**
   * Sends what is left and waits for the store, at most `timeoutMs`: the agent answers the task after this, so a
   * follower that is told the job ended has seen its last output. What could not be sent by then is dropped.
   */
  async close(timeoutMs = 5000): Promise<ShipStats> {
    if (!this.closed) {
      this.add(this.decoders.stdout.end() + this.decoders.stderr.end());
      this.closed = true;
      this.flush();
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), timeoutMs)));
      const outcome = await Promise.race([this.idle(), deadline]);
      clearTimeout(timer);
      if (outcome === 'late') {
        this.abandoned = true;
        this.drop([...this.inFlight, ...this.queue.splice(0)], 'the log store did not take the last output in time');
        this.inFlight = [];
      }
      if (this.stats.droppedEvents > 0) this.options.warn('some of the job output was not stored', { ...this.stats });
    }
    return { ...this.stats };
  }

  private add(text: string): void {
    if (text === '') return;
    if (this.pending === '') {
      this.pendingSince = this.options.now();
      this.timer = setTimeout(() => this.flush(), this.options.flushIntervalMs);
    }
    this.pending += text;
    this.pendingBytes += Buffer.byteLength(text, 'utf8');
    if (this.pendingBytes >= this.options.flushBytes) this.flush();
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending === '') return;
    // CloudWatch Logs wants the events of a batch in time order: a clock stepping back must not break that.
    const timestamp = (this.lastTimestamp = Math.max(this.lastTimestamp, this.pendingSince));
    for (const message of splitMessage(this.pending)) {
      const event = { timestamp, message };
      this.queue.push(event);
      this.queuedBytes += eventBytes(event);
    }
    this.pending = '';
    this.pendingBytes = 0;
    this.shed();
    this.sending ??= this.sendAll().finally(() => (this.sending = undefined));
  }

  /** Keeps the queue bounded while the store is down: the oldest output goes first. */
  private shed(): void {
    const shed: LogEvent[] = [];
    while (this.queuedBytes > this.options.maxQueuedBytes && this.queue.length > 0) {
      const event = this.queue.shift()!;
      this.queuedBytes -= eventBytes(event);
      shed.push(event);
    }
    if (shed.length === 0) return;
    this.drop(shed, this.warnedOverflow ? undefined : 'the log store is not keeping up: dropping the oldest output');
    this.warnedOverflow = true;
  }

  private async sendAll(): Promise<void> {
    while (this.queue.length > 0 && !this.abandoned) {
      const notice = this.notice();
      const [batch] = packBatches(notice ? [notice, ...this.queue] : this.queue);
      const events = this.queue.splice(0, batch!.length - (notice ? 1 : 0));
      for (const event of events) this.queuedBytes -= eventBytes(event);
      this.inFlight = events;
      try {
        const { rejectedEvents } = await withRetries(() => this.options.writer.append(this.options.ref, batch!), this.options.retry);
        if (this.abandoned) break; // Counted as dropped by close already.
        this.stats.batches += 1;
        this.stats.events += batch!.length - rejectedEvents;
        this.stats.bytes += batch!.reduce((sum, event) => sum + Buffer.byteLength(event.message, 'utf8'), 0);
        if (notice) this.unreported = { events: 0, bytes: 0 };
        // Refused one by one for their time (a clock far off): counted, as they will not be accepted later either.
        if (rejectedEvents > 0) this.count(rejectedEvents, 0);
      } catch (error) {
        if (!this.abandoned) this.drop(events, 'the log store did not take a batch of job output', { error: errorName(error), detail: errorMessage(error) });
      }
      this.inFlight = [];
    }
  }

  /** Resolves once nothing is queued or being sent. */
  private async idle(): Promise<'idle'> {
    while (this.sending) await this.sending;
    return 'idle';
  }

  private notice(): LogEvent | undefined {
    const { events, bytes } = this.unreported;
    if (events === 0) return undefined;
    const message = `[forgeflow] ${events} chunk(s) of output (${bytes} bytes) were not stored: the log store did not take them\n`;
    return { timestamp: this.queue[0]!.timestamp, message };
  }

  private drop(events: readonly LogEvent[], warning?: string, details: Record<string, unknown> = {}): void {
    if (events.length === 0) return;
    const bytes = events.reduce((sum, event) => sum + Buffer.byteLength(event.message, 'utf8'), 0);
    this.count(events.length, bytes);
    if (warning) this.options.warn(warning, { ...details, droppedEvents: events.length, droppedBytes: bytes, totalDroppedEvents: this.stats.droppedEvents });
  }

  private count(events: number, bytes: number): void {
    this.stats.droppedEvents += events;
    this.stats.droppedBytes += bytes;
    this.unreported = { events: this.unreported.events + events, bytes: this.unreported.bytes + bytes };
  }
}
