import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { attemptsExhausted, backoffCeilingSeconds, backoffSeconds, retryPolicy } from '../../functions/core/retry-policy.ts';

describe('Retry policy', () => {
  const policy = retryPolicy({ baseSeconds: 2, capSeconds: 60, maxAttempts: 5 });

  it('doubles the ceiling per attempt up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((a) => backoffCeilingSeconds(policy, a))).toEqual([2, 4, 8, 16, 32, 60, 60]);
  });

  it('draws full jitter between 0 and the ceiling', () => {
    expect(backoffSeconds(policy, 3, () => 0)).toBe(0);
    expect(backoffSeconds(policy, 3, () => 0.999999)).toBe(8);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempt, r) => {
        const delay = backoffSeconds(policy, attempt, () => r);
        return Number.isInteger(delay) && delay >= 0 && delay <= backoffCeilingSeconds(policy, attempt);
      }),
    );
  });

  it('stays within a non-integer ceiling', () => {
    const odd = retryPolicy({ baseSeconds: 1.5, capSeconds: 100, maxAttempts: 3 });
    expect(backoffSeconds(odd, 1, () => 0.999999)).toBeLessThanOrEqual(1.5);
  });

  it('is exhausted once maxAttempts attempts were made', () => {
    expect(attemptsExhausted(policy, 4)).toBe(false);
    expect(attemptsExhausted(policy, 5)).toBe(true);
  });

  it('rejects maxAttempts outside 1–10 and an inverted base/cap', () => {
    expect(() => retryPolicy({ maxAttempts: 0 })).toThrow(RangeError);
    expect(() => retryPolicy({ maxAttempts: 11 })).toThrow(RangeError);
    expect(() => retryPolicy({ baseSeconds: 10, capSeconds: 5 })).toThrow(RangeError);
  });
});
