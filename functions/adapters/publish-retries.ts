import type { EventEnvelope } from '../core/events.ts';
import type { PublishOutcome } from '../core/ports.ts';

/** How a publisher sends a batch again: only what was not taken, with full-jitter backoff. */
export interface PublishRetryOptions {
  /** Calls per batch, the first included. */
  maxAttempts?: number;
  baseDelayMs?: number;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Sends `batch` with `send`, which answers the events the call did not take (and why), then sends again only those,
 * up to `maxAttempts` calls. A call that throws (throttled, network) leaves every pending event pending. Returns what
 * was still not taken after the last call.
 */
export async function sendUntilTaken(
  batch: readonly EventEnvelope[],
  send: (pending: readonly EventEnvelope[]) => Promise<PublishOutcome['failed']>,
  options: PublishRetryOptions,
  defaultMaxAttempts: number,
): Promise<PublishOutcome['failed']> {
  const { maxAttempts = defaultMaxAttempts, baseDelayMs = 50, random = Math.random, sleep = defaultSleep } = options;
  let pending = batch;
  let failed: PublishOutcome['failed'] = [];
  for (let attempt = 1; attempt <= maxAttempts && pending.length > 0; attempt++) {
    if (attempt > 1) await sleep(random() * baseDelayMs * 2 ** (attempt - 1));
    try {
      failed = await send(pending);
      const left = new Set(failed.map((f) => f.eventId));
      pending = pending.filter((event) => left.has(event.id));
    } catch (error) {
      const e = error as Error;
      failed = pending.map((event) => ({ eventId: event.id, errorCode: e.name, errorMessage: e.message }));
    }
  }
  return failed;
}
