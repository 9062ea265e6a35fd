import { Logger } from '@aws-lambda-powertools/logger';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { createDocumentClient } from '../../functions/adapters/dynamodb/client.ts';
import { DynamoRateLimiter, rateLimitKey } from '../../functions/adapters/dynamodb/rate-limiter.ts';
import { DEFAULT_TENANT_RATE_LIMIT, readTenantRateLimit, TENANT_RATE_LIMIT_ENV, tenantBucketKey } from '../../functions/api/tenant-rate-limit.ts';
import { ConfigurationError } from '../../functions/shared/config.ts';
import { alice, bob, createTestApi } from '../support/api.ts';
import { localClientConfig } from '../support/dynamodb.ts';

/** A clock the test moves by hand: no sleeps, and the bucket's refill is exact. */
function fakeClock(start = 1_700_000_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('Per-tenant rate limits', () => {
  const limit = { burst: 3, refillPerSecond: 0.25 };
  const clock = fakeClock();
  let api: Awaited<ReturnType<typeof createTestApi>>;

  beforeAll(async () => {
    api = await createTestApi({ rateLimit: { limit, now: clock.now } });
  });

  it('answers 429 with Retry-After and the structured error once a tenant has used its bucket', async () => {
    for (let i = 0; i < limit.burst; i++) expect((await api.call('GET', '/v1/jobs', { caller: alice })).status).toBe(200);

    const refused = await api.call('GET', '/v1/jobs', { caller: alice, headers: { 'x-correlation-id': 'over-limit' } });

    // Empty at 0.25 tokens/s: the next whole token is 4 s away.
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('4');
    expect(refused.headers['x-correlation-id']).toBe('over-limit');
    expect(refused.body).toEqual({
      code: 'RATE_LIMITED',
      message: 'Too many requests for this tenant: the limit is 0.25 requests per second with bursts of 3',
      details: { limit: { burst: 3, requestsPerSecond: 0.25 }, retryAfterSeconds: 4 },
    });
  });

  it('rounds the wait up to whole seconds, then admits the tenant again once a token has refilled', async () => {
    clock.advance(1500);
    const partial = await api.call('GET', '/v1/jobs', { caller: alice });
    // 0.375 tokens after 1.5 s: 2.5 s to go, said as 3.
    expect(partial).toMatchObject({ status: 429, headers: { 'retry-after': '3' }, body: { details: { retryAfterSeconds: 3 } } });

    clock.advance(2500);
    expect((await api.call('GET', '/v1/jobs', { caller: alice })).status).toBe(200);
  });

  it('keeps one bucket per tenant: another tenant is unaffected', async () => {
    expect((await api.call('GET', '/v1/jobs', { caller: alice })).status).toBe(429);
    expect((await api.call('GET', '/v1/jobs', { caller: bob })).status).toBe(200);

    const bucket = (tenant: string) =>
      api.tables.documentClient.send(
        new GetCommand({ TableName: api.tables.tableNames.counters, Key: rateLimitKey(tenantBucketKey(tenant)), ConsistentRead: true }),
      );
    // Each item says when its bucket is full again, at 4 s a token: Alice's has no whole token left (more than
    // burst − 1 tokens away), Bob's lacks just the one he took.
    const interval = 1000 / limit.refillPerSecond;
    expect((await bucket(alice.tenant)).Item!.fullAt).toBeGreaterThan(clock.now() + (limit.burst - 1) * interval);
    expect((await bucket(bob.tenant)).Item).toMatchObject({ fullAt: clock.now() + interval });
  });

  it('counts writes in the same bucket and refuses them before the route runs', async () => {
    const carol = { sub: 'carol', tenant: 'initech' };
    for (let i = 0; i < limit.burst; i++) expect((await api.call('GET', '/v1/jobs', { caller: carol })).status).toBe(200);

    const submit = await api.call('POST', '/v1/jobs', { caller: carol, body: { command: 'echo never' } });

    expect(submit.status).toBe(429);
    clock.advance(4000);
    expect((await api.call('GET', '/v1/jobs', { caller: carol })).body.items).toEqual([]);
  });

  it('leaves public routes alone', async () => {
    for (let i = 0; i < limit.burst + 2; i++) expect((await api.call('GET', '/health', { caller: null })).status).toBe(200);
  });
});

describe('Per-tenant rate limits when the bucket store fails', () => {
  it('lets the request through and logs a warning (fail open)', async () => {
    const logger = new Logger({ logLevel: 'SILENT' });
    const warn = vi.spyOn(logger, 'warn');
    // A table that does not exist: DynamoDB answers ResourceNotFoundException on every bucket read.
    const broken = new DynamoRateLimiter(createDocumentClient(localClientConfig()), { table: 'no-such-counters-table', limits: DEFAULT_TENANT_RATE_LIMIT });
    const api = await createTestApi({ rateLimit: { limiter: broken, logger } });

    const res = await api.call('POST', '/v1/jobs', { caller: alice, body: { command: 'echo still-served' } });

    expect(res.status).toBe(201);
    expect(warn).toHaveBeenCalledWith('tenant rate limit unavailable; request let through', {
      tenantId: alice.tenant,
      error: expect.objectContaining({ name: 'ResourceNotFoundException' }) as Error,
    });
  });
});

describe('Function: readTenantRateLimit', () => {
  it('defaults to a burst of 50 and 20 requests per second', () => {
    expect(readTenantRateLimit({})).toEqual({ burst: 50, refillPerSecond: 20 });
  });

  it('reads both variables', () => {
    expect(readTenantRateLimit({ [TENANT_RATE_LIMIT_ENV.burst]: '200', [TENANT_RATE_LIMIT_ENV.perSecond]: '2.5' })).toEqual({
      burst: 200,
      refillPerSecond: 2.5,
    });
  });

  it.each([
    [TENANT_RATE_LIMIT_ENV.burst, '0'],
    [TENANT_RATE_LIMIT_ENV.burst, '1.5'],
    [TENANT_RATE_LIMIT_ENV.perSecond, 'fast'],
    [TENANT_RATE_LIMIT_ENV.perSecond, '-1'],
  ])('refuses %s=%s, naming the variable', (name, value) => {
    expect(() => readTenantRateLimit({ [name]: value })).toThrow(ConfigurationError);
    expect(() => readTenantRateLimit({ [name]: value })).toThrow(name);
  });
});
