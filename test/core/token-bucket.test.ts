import { describe, expect, it } from 'vitest';
import { EC2_RATE_LIMITS } from '../../functions/core/fleet/ec2-rate-limits.ts';
import { fullAtBounds, fullAtWait, InMemoryTokenBucket, takeToken, UnknownRateLimitKeyError } from '../../functions/core/token-bucket.ts';

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

describe('Functions: fullAtBounds and fullAtWait', () => {
  const config = { burst: 5, refillPerSecond: 2 };

  it('grants while a whole token is left: fullAt at most (burst − 1) intervals ahead', () => {
    expect(fullAtBounds(config, 10_000)).toEqual({ intervalMs: 500, latestFullAt: 12_000 });
  });

  it('waits until the next whole token, never 0', () => {
    expect(fullAtWait(12_500, config, 10_000)).toBe(500);
    expect(fullAtWait(12_000.2, config, 10_000)).toBe(1);
    expect(fullAtWait(12_000, config, 10_000)).toBe(1);
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
