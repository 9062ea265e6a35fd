/**
 * Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff and Jitter"):
 * sleep = random(0, min(cap, base * 2^(attempt-1))). Full jitter spreads retries of jobs that failed together.
 */
export interface RetryPolicy {
  baseSeconds: number;
  capSeconds: number;
  maxAttempts: number;
}

export const MIN_ATTEMPTS = 1;
export const MAX_ATTEMPTS = 10;
export const DEFAULT_RETRY_POLICY: RetryPolicy = { baseSeconds: 2, capSeconds: 300, maxAttempts: 3 };

export function retryPolicy(overrides: Partial<RetryPolicy> = {}): RetryPolicy {
  const policy = { ...DEFAULT_RETRY_POLICY, ...overrides };
  if (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < MIN_ATTEMPTS || policy.maxAttempts > MAX_ATTEMPTS) {
    throw new RangeError(`maxAttempts must be an integer from ${MIN_ATTEMPTS} to ${MAX_ATTEMPTS}`);
  }
  if (!(policy.baseSeconds > 0) || !(policy.capSeconds >= policy.baseSeconds)) {
    throw new RangeError('baseSeconds must be positive and capSeconds at least baseSeconds');
  }
  return policy;
}

/** Upper bound of the delay before attempt `attempt + 1`, after `attempt` attempts have failed (1-based). */
export function backoffCeilingSeconds(policy: RetryPolicy, attempt: number): number {
  const exponent = Math.max(0, attempt - 1);
  return Math.min(policy.capSeconds, policy.baseSeconds * 2 ** exponent);
}

/** Whole seconds, because a Step Functions Wait state takes whole seconds. */
export function backoffSeconds(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  return Math.floor(random() * (Math.floor(backoffCeilingSeconds(policy, attempt)) + 1));
}

export function attemptsExhausted(policy: RetryPolicy, attempts: number): boolean {
  return attempts >= policy.maxAttempts;
}
