/**
 * How the agent tells AWS errors apart. The SDK already retries throttling and 5xx a few times (standard mode);
 * `withRetries` adds a slower outer loop for outages that outlast those, and gives up at once where retrying cannot
 * help.
 */

/**
 * Step Functions' answers meaning "this task is no longer yours": it timed out, the execution was stopped
 * (cancelled), or another agent already answered it. None of them will change on retry.
 */
const TASK_OVER = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);

export function isTaskOver(error: unknown): boolean {
  return TASK_OVER.has(errorName(error));
}

/** A 4xx that is not throttling (or a task-over answer): the same call would fail the same way. */
export function isPermanent(error: unknown): boolean {
  if (isTaskOver(error)) return true;
  const e = error as { $fault?: string; $retryable?: unknown } | undefined;
  if (e?.$retryable) return false;
  if (/Throttl|TooManyRequests|RequestLimitExceeded|SlowDown/i.test(errorName(error))) return false;
  return e?.$fault === 'client';
}

export function errorName(error: unknown): string {
  return String((error as { name?: unknown } | undefined)?.name ?? 'Error');
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export interface RetryOptions {
  attempts: number;
  baseDelayMs: number;
  /** Called before each wait, e.g. to log. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

/** Calls `fn` up to `attempts` times with exponential backoff and jitter; rethrows the last error or a permanent one. */
export async function withRetries<T>(fn: () => Promise<T>, options: RetryOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt >= options.attempts || isPermanent(error)) throw error;
      const ceiling = options.baseDelayMs * 2 ** (attempt - 1);
      // Half fixed, half random: agents that failed together (an outage) do not retry together.
      const delayMs = Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
      options.onRetry?.(error, attempt, delayMs);
      await sleep(delayMs);
    }
  }
}

/** A timer that resolves early, without rejecting, when `signal` aborts (a draining agent must not wait it out). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
