import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoRateLimiter, rateLimitKey } from '../../functions/adapters/dynamodb/rate-limiter.ts';
import { EC2_RATE_LIMITS } from '../../functions/core/fleet/ec2-rate-limits.ts';
import type { RateLimits } from '../../functions/core/token-bucket.ts';
import { createTestTables } from '../support/dynamodb.ts';

describe('Class: DynamoRateLimiter', () => {
  let tables: Awaited<ReturnType<typeof createTestTables>>;

  beforeAll(async () => {
    tables = await createTestTables();
  });

  function limiter(now: () => number, limits: RateLimits = EC2_RATE_LIMITS) {
    return new DynamoRateLimiter(tables.documentClient, { table: tables.tableNames.counters, limits, now });
  }

  it('grants a burst of 5 RunInstances tokens, then refuses with the wait until the next one', async () => {
    const now = 1_700_000_000_000;
    const bucket = limiter(() => now);

    const results = [];
    for (let i = 0; i < 6; i++) results.push(await bucket.take('RunInstances'));

    expect(results.slice(0, 5).every((r) => r.granted && r.waitMs === 0)).toBe(true);
    expect(results[5]).toEqual({ granted: false, waitMs: 500 });
    const { Item } = await tables.documentClient.send(new GetCommand({ TableName: tables.tableNames.counters, Key: rateLimitKey('RunInstances') }));
    // Full again 5 intervals of 500 ms from now: what five takes from a full bucket leave.
    expect(Item).toMatchObject({ fullAt: now + 2_500 });
  });

  it('refills as time passes, by the injected clock', async () => {
    let now = 1_700_000_000_000;
    const small = limiter(() => now, { burst: 2, refillPerSecond: 1 });
    expect((await small.take('small')).granted).toBe(true);
    expect((await small.take('small')).granted).toBe(true);
    expect(await small.take('small')).toEqual({ granted: false, waitMs: 1000 });

    now += 400;
    expect(await small.take('small')).toEqual({ granted: false, waitMs: 600 });
    now += 600;
    expect(await small.take('small')).toEqual({ granted: true, waitMs: 0 });
    now += 10_000;
    expect((await small.take('small')).granted).toBe(true);
    expect((await small.take('small')).granted).toBe(true);
    expect((await small.take('small')).granted).toBe(false);
  });

  it('grants exactly the burst to 20 concurrent takes on a fresh bucket', async () => {
    const now = 1_700_000_000_000;
    // Separate limiter objects, like separate Lambda containers sharing the table.
    const takes = Array.from({ length: 20 }, () => limiter(() => now, EC2_RATE_LIMITS.RunInstances).take('concurrent'));

    const results = await Promise.all(takes);

    expect(results.filter((r) => r.granted)).toHaveLength(5);
    expect(results.filter((r) => !r.granted).every((r) => r.waitMs > 0)).toBe(true);
  });

  it.each([
    ['a fresh bucket', 0],
    ['a bucket full after a quiet spell', 60_000],
  ])('grants every one of 30 concurrent takes that %s holds: they do not lose to each other', async (_, quietMs) => {
    let now = 1_700_000_000_000;
    const limits = { burst: 50, refillPerSecond: 20 };
    const key = `crowd-${quietMs}`;
    if (quietMs > 0) {
      await limiter(() => now, limits).take(key);
      now += quietMs;
    }

    const results = await Promise.all(Array.from({ length: 30 }, () => limiter(() => now, limits).take(key)));

    expect(results.filter((r) => r.granted)).toHaveLength(30);
    const { Item } = await tables.documentClient.send(new GetCommand({ TableName: tables.tableNames.counters, Key: rateLimitKey(key), ConsistentRead: true }));
    // 30 of 50 tokens taken: full again 30 intervals (50 ms) from now.
    expect(Item?.fullAt).toBe(now + 30 * 50);
  });

  it('costs one UpdateItem per take once an instance knows the bucket, and none to refuse once it knows it is empty', async () => {
    let now = 1_700_000_000_000;
    const sent: string[] = [];
    const counting = Object.create(tables.documentClient) as typeof tables.documentClient;
    counting.send = (async (command: { constructor: { name: string } }) => {
      sent.push(command.constructor.name);
      return tables.documentClient.send(command as GetCommand);
    }) as typeof counting.send;
    const bucket = new DynamoRateLimiter(counting, { table: tables.tableNames.counters, limits: { burst: 3, refillPerSecond: 10 }, now: () => now });

    for (let i = 0; i < 3; i++) expect(await bucket.take('counted')).toEqual({ granted: true, waitMs: 0 });
    expect(sent).toEqual(['UpdateCommand', 'UpdateCommand', 'UpdateCommand']);
    expect(await bucket.take('counted')).toEqual({ granted: false, waitMs: 100 });
    expect(sent).toHaveLength(3);
    now += 100;
    expect(await bucket.take('counted')).toEqual({ granted: true, waitMs: 0 });
    expect(sent).toHaveLength(4);
  });

  it('grants a take that waited while another taker moved the bucket on: the clock is read again, not the start time', async () => {
    const start = 1_700_000_000_000;
    const limits = { burst: 3, refillPerSecond: 10 };
    // Another instance takes 1.5 s later (a fresh bucket for it): full again at start + 1.6 s.
    await limiter(() => start + 1_500, limits).take('waited');
    // This instance started its take at `start`, and its call only reached DynamoDB after that one.
    const readings = [start, start + 1_500];
    const slow = limiter(() => readings.shift() ?? start + 1_500, limits);

    expect(await slow.take('waited')).toEqual({ granted: true, waitMs: 0 });
  });

  it('reads an item of the earlier tokens-and-refilledAt layout as a full bucket', async () => {
    const now = 1_700_000_000_000;
    await tables.documentClient.send(new PutCommand({ TableName: tables.tableNames.counters, Item: { ...rateLimitKey('legacy'), tokens: 0, refilledAt: now } }));
    const bucket = limiter(() => now, { burst: 2, refillPerSecond: 1 });
    expect((await bucket.take('legacy')).granted).toBe(true);
    expect((await bucket.take('legacy')).granted).toBe(true);
    expect(await bucket.take('legacy')).toEqual({ granted: false, waitMs: 1000 });
  });

  it('grants a take whose every write lost a race while tokens were left: a busy bucket is not an empty one', async () => {
    const now = 1_700_000_000_000;
    // A client on which every conditional write fails as if another taker had written first, reads pass through.
    const racing = Object.create(tables.documentClient) as typeof tables.documentClient;
    racing.send = (async (command: { constructor: { name: string } }) => {
      if (command.constructor.name === 'UpdateCommand') throw new ConditionalCheckFailedException({ message: 'lost the race', $metadata: {} });
      return tables.documentClient.send(command as GetCommand);
    }) as typeof racing.send;
    const busy = new DynamoRateLimiter(racing, { table: tables.tableNames.counters, limits: { burst: 3, refillPerSecond: 1 }, now: () => now });

    expect(await busy.take('busy')).toEqual({ granted: true, waitMs: 0 });
  });
});
