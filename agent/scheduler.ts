/**
 * Smooth weighted round-robin (the nginx upstream algorithm) over the queues that may have work.
 *
 * Why this one: with weights 8:4:2:1 it interleaves (c h c m c h c l c h c m c h c) instead of sending eight polls
 * to critical in a row, so over every window of `sum(weights)` picks each candidate is chosen exactly `weight` times.
 * That is the starvation bound docs/architecture.md states: while low has work it is polled at least once every 15 picks,
 * whatever the other queues hold. Candidates that are absent (known empty) are skipped and keep their state, so the
 * rhythm resumes when they come back.
 */
export class SmoothWeightedRoundRobin<K extends string> {
  private readonly current = new Map<K, number>();
  private readonly weights: Readonly<Record<K, number>>;

  constructor(weights: Readonly<Record<K, number>>) {
    for (const [key, weight] of Object.entries(weights) as Array<[K, number]>) {
      if (!Number.isInteger(weight) || weight < 1) throw new RangeError(`weight of ${key} must be a positive integer, got ${weight}`);
    }
    this.weights = weights;
  }

  /** The sum of the weights: the window in which every always-present candidate is picked `weight` times. */
  get period(): number {
    return (Object.values(this.weights) as number[]).reduce((a, b) => a + b, 0);
  }

  /**
   * Picks one of `candidates` (in priority order: ties go to the first). Every candidate gains its weight, the
   * largest wins and pays the candidates' total weight back.
   */
  pick(candidates: readonly K[]): K | undefined {
    let best: K | undefined;
    let bestValue = -Infinity;
    let total = 0;
    for (const key of candidates) {
      const weight = this.weights[key];
      const value = (this.current.get(key) ?? 0) + weight;
      this.current.set(key, value);
      total += weight;
      if (value > bestValue) {
        best = key;
        bestValue = value;
      }
    }
    if (best !== undefined) this.current.set(best, bestValue - total);
    return best;
  }
}
