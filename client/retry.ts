import { ForgeflowApiError, ForgeflowNetworkError } from './errors.ts';

/**
 * When and how long the client waits before sending a request again. Hand-written rather than taken from a library
 * (p-retry and the like) because the wait depends on each failure (the server's `Retry-After`), and a client library
 * is better without a dependency for forty lines.
 */
export interface RetryOptions {
  /** Attempts in all, the first included (default 5); 1 never retries. */
  maxAttempts?: number;
  /** Ceiling of the first backoff (default 200 ms); doubled at every attempt, up to `maxDelayMs`. */
  baseDelayMs?: number;
  /** Ceiling of any one backoff (default 10 s). */
  maxDelayMs?: number;
  /** Longest `Retry-After` honoured (default 60 s); a server asking for more gets the error instead. */
  maxRetryAfterMs?: number;
  /** For tests: the jitter's source. */
  random?: () => number;
}

export const DEFAULT_RETRY: Required<Omit<RetryOptions, 'random'>> = { maxAttempts: 5, baseDelayMs: 200, maxDelayMs: 10_000, maxRetryAfterMs: 60_000 };

/** Rate limited, unavailable, or no answer at all: the only failures a retry can mend without changing the request. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof ForgeflowNetworkError) return true;
  return error instanceof ForgeflowApiError && (error.status === 429 || error.status === 503);
}

/** The wait before attempt `attempt + 1`: the server's `Retry-After` if it gave one, else full-jitter backoff. */
export function retryDelayMs(error: unknown, attempt: number, options: RetryOptions = {}): number | undefined {
  const { baseDelayMs, maxDelayMs, maxRetryAfterMs } = { ...DEFAULT_RETRY, ...options };
  if (error instanceof ForgeflowApiError && error.retryAfterMs !== undefined) {
    return error.retryAfterMs <= maxRetryAfterMs ? error.retryAfterMs : undefined;
  }
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
  return Math.floor((options.random ?? Math.random)() * ceiling);
}

/** Runs `call` until it succeeds, fails for good, runs out of attempts, or `signal` aborts (rejecting with its reason). */
export async function withRetry<T>(call: (attempt: number) => Promise<T>, options: RetryOptions & { signal?: AbortSignal } = {}): Promise<T> {
  const maxAttempts = options.maxAttempts ?? DEFAULT_RETRY.maxAttempts;
  for (let attempt = 1; ; attempt++) {
    options.signal?.throwIfAborted();
    try {
      return await call(attempt);
    } catch (error) {
      if (attempt >= maxAttempts || !isRetryable(error) || options.signal?.aborted) throw error;
      const delay = retryDelayMs(error, attempt, options);
      if (delay === undefined) throw error;
      await sleep(delay, options.signal);
    }
  }
}

/** A timer that an AbortSignal cuts short (rejecting with the signal's reason). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
