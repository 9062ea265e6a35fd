import { describe, expect, it } from 'vitest';
import { SmoothWeightedRoundRobin } from '../../agent/scheduler.ts';
import { PRIORITIES, type Priority } from '../../functions/core/priority.ts';
import { PRIORITY_WEIGHTS } from '../../functions/declarations/workers.ts';

function picks(candidates: readonly Priority[], n: number): Priority[] {
  const scheduler = new SmoothWeightedRoundRobin(PRIORITY_WEIGHTS);
  return Array.from({ length: n }, () => scheduler.pick(candidates)!);
}

const counts = (sequence: Priority[]) => Object.fromEntries(PRIORITIES.map((p) => [p, sequence.filter((s) => s === p).length]));

describe('SmoothWeightedRoundRobin over the dispatch priorities', () => {
  it('splits 1,500 picks 8:4:2:1 when every queue always has work', () => {
    expect(counts(picks(PRIORITIES, 1500))).toEqual({ critical: 800, high: 400, medium: 200, low: 100 });
  });

  it('picks low at least once in every window of 15 picks (the sum of the weights): low never starves', () => {
    const sequence = picks(PRIORITIES, 1500);
    const lows = sequence.flatMap((p, i) => (p === 'low' ? [i] : []));
    const gaps = lows.map((index, i) => index - (i === 0 ? -1 : lows[i - 1]!));
    expect(Math.max(...gaps)).toBeLessThanOrEqual(15);
    expect(new SmoothWeightedRoundRobin(PRIORITY_WEIGHTS).period).toBe(15);
  });

  it('interleaves instead of sending runs of critical polls', () => {
    expect(picks(PRIORITIES, 15).join(' ')).toBe('critical high critical medium critical high critical low critical high critical medium critical high critical');
  });

  it('gives everything to low when only low has work', () => {
    expect(counts(picks(['low'], 1500))).toEqual({ critical: 0, high: 0, medium: 0, low: 1500 });
  });

  it('keeps the weights among the queues that have work', () => {
    expect(counts(picks(['critical', 'low'], 900))).toEqual({ critical: 800, high: 0, medium: 0, low: 100 });
    expect(counts(picks(['high', 'medium'], 600))).toEqual({ critical: 0, high: 400, medium: 200, low: 0 });
  });

  it('resumes the rhythm when queues come and go, without a burst for the one that returns', () => {
    const scheduler = new SmoothWeightedRoundRobin(PRIORITY_WEIGHTS);
    const sequence: Priority[] = [];
    for (let i = 0; i < 3000; i++) sequence.push(scheduler.pick(i % 100 < 50 ? PRIORITIES : ['critical', 'high', 'medium'])!);
    // While low is present it still gets its share within every window; absent, it does not bank credit.
    const present = sequence.filter((_, i) => i % 100 < 50);
    expect(counts(present).low).toBeGreaterThanOrEqual(95);
    expect(counts(present).low).toBeLessThanOrEqual(105);
  });

  it('returns undefined with no candidates and rejects invalid weights', () => {
    expect(new SmoothWeightedRoundRobin(PRIORITY_WEIGHTS).pick([])).toBeUndefined();
    expect(() => new SmoothWeightedRoundRobin({ a: 0 })).toThrow(RangeError);
    expect(() => new SmoothWeightedRoundRobin({ a: 1.5 })).toThrow(RangeError);
  });
});
