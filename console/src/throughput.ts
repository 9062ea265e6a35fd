import { TERMINAL_STATUSES } from '../../functions/core/job-status.ts';

/**
 * Jobs ended per minute over the last hour. No endpoint counts completions per minute (the stats counters are
 * totals), so the console derives them from the job list: each ended job's `finishedAt`. Pure, so it is tested
 * apart from the page; what the page pages through to feed it is in pages/stats-data.ts.
 */
export type TerminalStatus = (typeof TERMINAL_STATUSES)[number];

export interface MinuteBucket {
  /** Epoch milliseconds of the minute's start. */
  start: number;
  counts: Record<TerminalStatus, number>;
  total: number;
}

const zero = (): Record<TerminalStatus, number> => Object.fromEntries(TERMINAL_STATUSES.map((s) => [s, 0])) as Record<TerminalStatus, number>;

export function throughputBuckets(jobs: readonly { status: string; finishedAt?: string }[], now: number, minutes = 60): MinuteBucket[] {
  const end = Math.floor(now / 60_000) * 60_000 + 60_000;
  const first = end - minutes * 60_000;
  const buckets: MinuteBucket[] = Array.from({ length: minutes }, (_, i) => ({ start: first + i * 60_000, counts: zero(), total: 0 }));
  for (const job of jobs) {
    if (!job.finishedAt || !(TERMINAL_STATUSES as readonly string[]).includes(job.status)) continue;
    const at = Date.parse(job.finishedAt);
    if (!(at >= first && at < end)) continue;
    const bucket = buckets[Math.floor((at - first) / 60_000)]!;
    bucket.counts[job.status as TerminalStatus] += 1;
    bucket.total += 1;
  }
  return buckets;
}

/** A round axis maximum at or above `value`: 1, 2, 5, 10, 20, 50… */
export function niceMax(value: number): number {
  if (value <= 1) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 5, 10].map((step) => step * magnitude).find((candidate) => candidate >= value)!;
}
