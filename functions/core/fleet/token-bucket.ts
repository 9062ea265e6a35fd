import type { RateLimiter } from './ports.ts';

/**
 * Token buckets in front of rate-limited APIs. The arithmetic is pure (takeToken) so the in-memory bucket here and
 * the DynamoDB-backed one shared by all Lambdas compute exactly the same answers.
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

/**
 * Amazon EC2's request-token buckets per account and region (account defaults; AWS Support can raise them). Source:
 * Amazon EC2 developer guide, "Request throttling for the Amazon EC2 API"
 * (https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html), request token bucket sizes and refill
 * rates. RunInstances and TerminateInstances also draw one resource token per instance (1000 burst, refill 2/s and
 * 20/s); launching one instance per call, the request bucket below is the tighter bound. Unfiltered, unpaginated
 * Describe calls have a smaller bucket (50 / 10): ours always filter.
 */
export const EC2_RATE_LIMITS = {
  RunInstances: { burst: 5, refillPerSecond: 2 },
  TerminateInstances: { burst: 100, refillPerSecond: 5 },
  /** Non-mutating calls: DescribeInstances, DescribeImages, DescribeInstanceStatus... */
  Describe: { burst: 100, refillPerSecond: 20 },
  CreateTags: { burst: 100, refillPerSecond: 10 },
  /** Other mutating calls, e.g. MonitorInstances. */
  Mutating: { burst: 50, refillPerSecond: 5 },
} as const satisfies Record<string, BucketConfig>;

export type Ec2RateLimitKey = keyof typeof EC2_RATE_LIMITS;

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
 * A token bucket per key in this process's memory: right for the local runtime and for a single caller. Lambdas
 * sharing an account's EC2 buckets need DynamoRateLimiter instead.
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
