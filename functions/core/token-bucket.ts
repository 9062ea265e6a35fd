import type { RateLimiter } from './ports.ts';

/**
 * Token buckets in front of rate-limited things: EC2's API (functions/core/fleet/ec2-rate-limits.ts) and each
 * tenant's API requests (functions/api/tenant-rate-limit.ts). The arithmetic is pure (takeToken) so the in-memory
 * bucket here and the DynamoDB-backed one shared by all Lambdas compute the same answers.
 */
export interface BucketConfig {
  /** The most tokens the bucket holds: how many calls may go out at once after a quiet spell. */
  burst: number;
  /** Tokens added per second, up to `burst`: the sustained rate. */
  refillPerSecond: number;
}

export interface BucketState {
  tokens: number;
  /** Epoch milliseconds of the last refill. */
  refilledAt: number;
}

/** One config for every key, or a config per key (e.g. EC2_RATE_LIMITS). */
export type RateLimits = BucketConfig | Readonly<Record<string, BucketConfig>>;

export class UnknownRateLimitKeyError extends Error {
  override name = 'UnknownRateLimitKeyError';
}

function isBucketConfig(limits: RateLimits): limits is BucketConfig {
  return typeof (limits as Partial<BucketConfig>).burst === 'number' && typeof (limits as Partial<BucketConfig>).refillPerSecond === 'number';
}

/** The bucket settings for a key; a key without settings is a programming error, never "unlimited". */
export function bucketConfigFor(limits: RateLimits, key: string): BucketConfig {
  if (isBucketConfig(limits)) return limits;
  const config = Object.hasOwn(limits, key) ? limits[key] : undefined;
  if (!config) throw new UnknownRateLimitKeyError(`No rate limit is configured for "${key}" (known: ${Object.keys(limits).join(', ')}).`);
  return config;
}

/** The bucket as it stands at `now`: a bucket never seen is full. */
export function refill(state: BucketState | undefined, config: BucketConfig, now: number): BucketState {
  if (!state) return { tokens: config.burst, refilledAt: now };
  // Clocks of different Lambdas disagree a little: time never runs backwards for a bucket.
  const elapsedMs = Math.max(0, now - state.refilledAt);
  return {
    tokens: Math.min(config.burst, state.tokens + (elapsedMs / 1000) * config.refillPerSecond),
    refilledAt: Math.max(now, state.refilledAt),
  };
}

export interface TakeOutcome {
  granted: boolean;
  /** 0 when granted, otherwise the milliseconds until the next whole token. */
  waitMs: number;
  /** The bucket after the attempt (refilled, and one token less if granted). */
  state: BucketState;
}

/** Takes one token if a whole one is there after refilling. */
export function takeToken(state: BucketState | undefined, config: BucketConfig, now: number): TakeOutcome {
  const current = refill(state, config, now);
  if (current.tokens >= 1) return { granted: true, waitMs: 0, state: { ...current, tokens: current.tokens - 1 } };
  const waitMs = Math.max(1, Math.ceil(((1 - current.tokens) / config.refillPerSecond) * 1000));
  return { granted: false, waitMs, state: current };
}

/**
 * The same bucket kept as one number for a shared store: `fullAt`, the time at which it is full again (GCRA's
 * "theoretical arrival time"). At `now` it holds burst − (fullAt − now) / interval tokens, at most burst. A take is
 * granted while fullAt ≤ `latestFullAt` (a whole token left) and moves fullAt one interval later, from `now` if it was
 * already past. Concurrent takes commute, so a store grants each with one conditional write and no read.
 */
export function fullAtBounds(config: BucketConfig, now: number): { intervalMs: number; latestFullAt: number } {
  const intervalMs = 1000 / config.refillPerSecond;
  return { intervalMs, latestFullAt: now + (config.burst - 1) * intervalMs };
}

/** Milliseconds until a bucket full at `fullAt` holds a whole token again (at least 1: it holds none now). */
export function fullAtWait(fullAt: number, config: BucketConfig, now: number): number {
  return Math.max(1, Math.ceil(fullAt - fullAtBounds(config, now).latestFullAt));
}

/**
 * A token bucket per key in this process's memory: right for the local fleet and for a single caller. Callers
 * that share a limit across Lambdas (EC2's account-wide buckets, a tenant's requests) need DynamoRateLimiter.
 */
export class InMemoryTokenBucket implements RateLimiter {
  private readonly states = new Map<string, BucketState>();
  private readonly now: () => number;

  constructor(
    private readonly limits: RateLimits,
    options: { now?: () => number } = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  async take(key: string): Promise<{ granted: boolean; waitMs: number }> {
    const outcome = takeToken(this.states.get(key), bucketConfigFor(this.limits, key), this.now());
    this.states.set(key, outcome.state);
    return { granted: outcome.granted, waitMs: outcome.waitMs };
  }
}
