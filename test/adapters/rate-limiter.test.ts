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

  describe('with a lease (tokens taken ahead by a busy instance)', () => {
    const limits = { burst: 50, refillPerSecond: 20 };
    const lease = { maxTokens: 10, windowMs: 1000 };
    /** A limiter whose DynamoDB calls are counted. */
    function leasing(now: () => number) {
      const counter = { writes: 0 };
      const client = { send: (command: never) => (counter.writes++, tables.documentClient.send(command)) } as unknown as typeof tables.documentClient;
      return { bucket: new DynamoRateLimiter(client, { table: tables.tableNames.counters, limits, lease, now }), counter };
    }

    it('grants a steady stream under the limit with one write per up to ten takes', async () => {
      let now = 1_700_000_000_000;
      const { bucket, counter } = leasing(() => now);
      // 100 takes, one every 70 ms: about 14 a second against a refill of 20.
      const results = [];
      for (let i = 0; i < 100; i++) {
        results.push(await bucket.take('lease-steady'));
        now += 70;
      }
      expect(results.every((r) => r.granted)).toBe(true);
      // Leases of 1, 2, 4 and 8 while the instance's demand shows, then 10 at a time.
      expect(counter.writes).toBeLessThanOrEqual(15);
    });

    it('never grants more than the bucket holds, however fast one instance takes', async () => {
      let now = 1_700_000_000_000;
      const { bucket } = leasing(() => now);
      let granted = 0;
      // 200 takes, one every 5 ms: a second at 200 a second against a bucket of 50 refilling 20 a second.
      for (let i = 0; i < 200; i++) {
        if ((await bucket.take('lease-fast')).granted) granted++;
        now += 5;
      }
      // At most the burst plus a second's refill; at least that less one lease of spares still held here.
      expect(granted).toBeLessThanOrEqual(50 + 20);
      expect(granted).toBeGreaterThanOrEqual(50 + 20 - lease.maxTokens);
    });

    it('shares the bucket between instances: two leasing ones together are granted no more than it holds', async () => {
      let now = 1_700_000_000_000;
      const [a, b] = [leasing(() => now), leasing(() => now)];
      let granted = 0;
      for (let i = 0; i < 100; i++) {
        if ((await a.bucket.take('lease-shared')).granted) granted++;
        if ((await b.bucket.take('lease-shared')).granted) granted++;
        now += 5;
      }
      // Half a second: the burst plus half a second's refill, split between them however the leases fell.
      expect(granted).toBeLessThanOrEqual(50 + 10);
      expect(Math.min(a.counter.writes, b.counter.writes)).toBeGreaterThan(0);
    });

    it('takes one token per write from an instance that is not busy, and drops spares a window old', async () => {
      let now = 1_700_000_000_000;
      const { bucket, counter } = leasing(() => now);
      for (let i = 0; i < 3; i++) {
        expect((await bucket.take('lease-idle')).granted).toBe(true);
        now += 2_000;
      }
      expect(counter.writes).toBe(3);
      const { Item } = await tables.documentClient.send(new GetCommand({ TableName: tables.tableNames.counters, Key: rateLimitKey('lease-idle') }));
      // The last write found the bucket full and took one token: full again one interval (50 ms) after it.
      expect(Item).toMatchObject({ fullAt: now - 2_000 + 50 });

      // Busy for a moment: spares are taken ahead; a window later they are gone and the next take writes again.
      for (let i = 0; i < 6; i++) await bucket.take('lease-idle');
      const writesWhileBusy = counter.writes - 3;
      expect(writesWhileBusy).toBeLessThan(6);
      now += lease.windowMs;
      await bucket.take('lease-idle');
      expect(counter.writes).toBe(3 + writesWhileBusy + 1);
    });
  });
});
