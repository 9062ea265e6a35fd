import { describe, expect, it } from 'vitest';
import { EC2_RATE_LIMITS } from '../../functions/core/fleet/ec2-rate-limits.ts';
import { InMemoryTokenBucket, maySkipRefill, takeToken, UnknownRateLimitKeyError } from '../../functions/core/token-bucket.ts';

function fakeClock(start = 1_700_000_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

async function takeMany(bucket: InMemoryTokenBucket, key: string, n: number) {
  const results = [];
  for (let i = 0; i < n; i++) results.push(await bucket.take(key));
  return results;
}

describe('Class: InMemoryTokenBucket', () => {
  it('grants the burst at once, then refuses with the wait until the next token', async () => {
    const clock = fakeClock();
    const bucket = new InMemoryTokenBucket({ burst: 5, refillPerSecond: 2 }, { now: clock.now });

    const results = await takeMany(bucket, 'RunInstances', 6);

    expect(results.slice(0, 5)).toEqual(Array(5).fill({ granted: true, waitMs: 0 }));
    // Empty at 2 tokens/s: the next whole token is half a second away.
    expect(results[5]).toEqual({ granted: false, waitMs: 500 });
  });

  it('refills at the configured rate, never beyond the burst', async () => {
    const clock = fakeClock();
    const bucket = new InMemoryTokenBucket({ burst: 5, refillPerSecond: 2 }, { now: clock.now });
    await takeMany(bucket, 'k', 5);

    clock.advance(200);
    expect(await bucket.take('k')).toEqual({ granted: false, waitMs: 300 });
    clock.advance(300);
    expect(await bucket.take('k')).toEqual({ granted: true, waitMs: 0 });

    clock.advance(60_000);
    const afterQuiet = await takeMany(bucket, 'k', 6);
    expect(afterQuiet.filter((r) => r.granted)).toHaveLength(5);
  });

  it('keeps one bucket per key with its own settings', async () => {
    const clock = fakeClock();
    const bucket = new InMemoryTokenBucket(EC2_RATE_LIMITS, { now: clock.now });

    const runs = await takeMany(bucket, 'RunInstances', 6);
    const describes = await takeMany(bucket, 'Describe', 100);

    expect(runs.filter((r) => r.granted)).toHaveLength(5);
    expect(describes.every((r) => r.granted)).toBe(true);
    expect(await bucket.take('Describe')).toEqual({ granted: false, waitMs: 50 });
    await expect(bucket.take('NoSuchApi')).rejects.toBeInstanceOf(UnknownRateLimitKeyError);
  });

  it('never lets a clock running backwards refill or rewind the bucket', () => {
    const config = { burst: 5, refillPerSecond: 2 };
    const taken = takeToken({ tokens: 0.5, refilledAt: 10_000 }, config, 9_000);
    expect(taken).toEqual({ granted: false, waitMs: 250, state: { tokens: 0.5, refilledAt: 10_000 } });
  });
});

describe('Function: maySkipRefill', () => {
  const config = { burst: 50, refillPerSecond: 20 };
  const refilledAt = 10_000;

  it('never without a whole stored token', () => {
    expect(maySkipRefill({ tokens: 0.9, refilledAt }, config, refilledAt, refilledAt)).toBe(false);
  });

  it('while the credit it defers stays under the burst, however old the refill', () => {
    // 30 + 1 s × 20 = 50: the cap would not have bound.
    const notSince = refilledAt + 1;
    expect(maySkipRefill({ tokens: 30, refilledAt }, config, refilledAt + 1000, notSince)).toBe(true);
    expect(maySkipRefill({ tokens: 30, refilledAt }, config, refilledAt + 1001, notSince)).toBe(false);
  });

  it('on an about full bucket only when it was refilled since the given time', () => {
    expect(maySkipRefill({ tokens: 49, refilledAt }, config, refilledAt + 80, refilledAt)).toBe(true);
    expect(maySkipRefill({ tokens: 49, refilledAt }, config, refilledAt + 80, refilledAt + 1)).toBe(false);
  });
});

describe('Constant: EC2_RATE_LIMITS', () => {
  it('holds the documented EC2 request buckets', () => {
    expect(EC2_RATE_LIMITS).toMatchObject({
      RunInstances: { burst: 5, refillPerSecond: 2 },
      TerminateInstances: { burst: 100, refillPerSecond: 5 },
      Describe: { burst: 100, refillPerSecond: 20 },
      CreateTags: { burst: 100, refillPerSecond: 10 },
      Mutating: { burst: 50, refillPerSecond: 5 },
    });
  });
});
