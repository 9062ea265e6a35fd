/**
 * Packs items, in order, into as few batches as a request's limits allow: at most `maxCount` items and `maxBytes`
 * bytes each, and a new batch wherever `splitBefore` says the next item cannot join the current one's first. Each
 * item must fit a batch on its own (the caller sets aside those that cannot). PutEvents and PutLogEvents both need it.
 */
export function packInOrder<T>(
  items: readonly T[],
  limits: { maxCount: number; maxBytes: number; sizeOf: (item: T) => number; splitBefore?: (first: T, item: T) => boolean },
): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = limits.sizeOf(item);
    const full = current.length === limits.maxCount || bytes + size > limits.maxBytes || (current.length > 0 && limits.splitBefore?.(current[0]!, item) === true);
    if (full && current.length > 0) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
