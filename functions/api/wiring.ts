import type { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoRateLimiter } from '../adapters/dynamodb/rate-limiter.ts';
import { readTenantRateLimit, TenantRateLimit, tenantRateLimitLease } from './tenant-rate-limit.ts';

/**
 * The tenant limit as the handlers wire it: one bucket per tenant in the counters table, shared by every instance of
 * every HTTP function (and by `npm start`). A bucket per instance, or per function, would let N of them admit N
 * times the limit.
 */
export function tenantRateLimitFromEnv(client: DynamoDBDocumentClient, countersTable: string, logger: Logger): TenantRateLimit {
  const limit = readTenantRateLimit();
  return new TenantRateLimit({
    limiter: new DynamoRateLimiter(client, { table: countersTable, limits: limit, lease: tenantRateLimitLease(limit) }),
    limit,
    logger,
  });
}
