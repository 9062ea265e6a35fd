import type { Logger } from '@aws-lambda-powertools/logger';
import * as z from 'zod';
import type { RateLimitLease } from '../adapters/dynamodb/rate-limiter.ts';
import type { RateLimiter } from '../core/ports.ts';
import type { BucketConfig } from '../core/token-bucket.ts';
import { readConfig } from '../shared/config.ts';
import { httpError, type HttpError } from './http.ts';

/**
 * Requests per tenant, all routes together: a burst of 50, then 20 a second. Well under the stage's throttle
 * (lib/http-api.ts DEFAULT_THROTTLE, 100/s with a burst of 200), so one tenant cannot take the whole stage.
 */
export const DEFAULT_TENANT_RATE_LIMIT = { burst: 50, refillPerSecond: 20 } as const satisfies BucketConfig;

/** The variables that override DEFAULT_TENANT_RATE_LIMIT, read by the api handler at cold start. */
export const TENANT_RATE_LIMIT_ENV = { burst: 'TENANT_RATE_LIMIT_BURST', perSecond: 'TENANT_RATE_LIMIT_PER_SECOND' } as const;

/**
 * How far ahead an api instance takes a tenant's tokens (DynamoRateLimiter's lease): while it keeps serving the
 * tenant, one write per up to 10 requests, never more than a fifth of the burst, and spares dropped after a second.
 * A tenant at its limit may then see a 429 from one instance while another still holds a few of its tokens; the
 * sustained rate is unchanged, since every token was taken from the shared bucket.
 */
export const tenantRateLimitLease = (limit: BucketConfig): RateLimitLease => ({ maxTokens: Math.max(1, Math.min(10, Math.floor(limit.burst / 5))), windowMs: 1000 });

/** The limiter key of a tenant's bucket (an item `ratelimit#tenant#<id>` in the counters table). */
export const tenantBucketKey = (tenantId: string) => `tenant#${tenantId}`;

/** The tenant limit from the environment; an invalid value stops the cold start with the variable's name. */
export function readTenantRateLimit(env: NodeJS.ProcessEnv = process.env): BucketConfig {
  const config = readConfig(
    {
      [TENANT_RATE_LIMIT_ENV.burst]: z.coerce.number().int().min(1).max(1_000_000).default(DEFAULT_TENANT_RATE_LIMIT.burst),
      [TENANT_RATE_LIMIT_ENV.perSecond]: z.coerce.number().positive().max(1_000_000).default(DEFAULT_TENANT_RATE_LIMIT.refillPerSecond),
    },
    env,
  );
  return { burst: config[TENANT_RATE_LIMIT_ENV.burst], refillPerSecond: config[TENANT_RATE_LIMIT_ENV.perSecond] };
}

/** The variables that set `limit`, for whoever starts the api handler (the local runtime, a deployment). */
export function tenantRateLimitEnvironment(limit: BucketConfig): Record<string, string> {
  return { [TENANT_RATE_LIMIT_ENV.burst]: String(limit.burst), [TENANT_RATE_LIMIT_ENV.perSecond]: String(limit.refillPerSecond) };
}

export interface TenantRateLimitOptions {
  /** Shared by every api instance (DynamoRateLimiter), built with `limit` for every key. */
  limiter: RateLimiter;
  limit: BucketConfig;
  logger: Logger;
}

/**
 * One token bucket per tenant in front of every authenticated route, reads and writes alike. A request costs at
 * most one conditional write on the tenant's item in the counters table and no read (DynamoRateLimiter; ≈ $0.63 per
 * million writes on demand); an instance busy with the tenant takes tokens ahead (tenantRateLimitLease) and grants
 * most requests with no call, and refusing a tenant this instance already saw empty costs nothing either.
 */
export class TenantRateLimit {
  constructor(private readonly options: TenantRateLimitOptions) {}

  /** Resolves when the tenant may go on; throws a 429 HttpError with Retry-After when its bucket is empty. */
  async admit(tenantId: string): Promise<void> {
    let outcome: { granted: boolean; waitMs: number };
    try {
      outcome = await this.options.limiter.take(tenantBucketKey(tenantId));
    } catch (error) {
      // Fail open: the limit protects the platform from one tenant, it must not take the API down with the
      // bucket's store. If DynamoDB is truly out, the routes fail on their own; if only the bucket item is
      // throttled or erroring, the routes still work. The stage's throttle still bounds everyone.
      this.options.logger.warn('tenant rate limit unavailable; request let through', { tenantId, error: error as Error });
      return;
    }
    if (!outcome.granted) throw rateLimited(this.options.limit, outcome.waitMs);
  }
}

function rateLimited(limit: BucketConfig, waitMs: number): HttpError {
  // Whole seconds, at least 1: Retry-After has no fractions, and 0 would invite an immediate retry.
  const retryAfterSeconds = Math.max(1, Math.ceil(waitMs / 1000));
  return httpError(
    'RATE_LIMITED',
    `Too many requests for this tenant: the limit is ${limit.refillPerSecond} requests per second with bursts of ${limit.burst}`,
    { limit: { burst: limit.burst, requestsPerSecond: limit.refillPerSecond }, retryAfterSeconds },
    { 'retry-after': String(retryAfterSeconds) },
  );
}
