/**
 * The newest `limit` values added, the oldest dropped first: the local engine's retention windows (closed executions,
 * answered task tokens). A Set iterates in insertion order, so the oldest is its first value and each drop is O(1).
 */
export class RecentSet<T> {
  private readonly values = new Set<T>();

  constructor(private readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`a retention limit must be a whole number, 0 or more (got ${limit})`);
  }

  /** Adds `value`; returns the value it pushed out, if the set was full. */
  add(value: T): T | undefined {
    this.values.add(value);
    if (this.values.size <= this.limit) return undefined;
    const oldest = this.values.values().next().value as T;
    this.values.delete(oldest);
    return oldest;
  }

  has(value: T): boolean {
    return this.values.has(value);
  }
}
