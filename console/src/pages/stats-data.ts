import { api } from '../api/client.ts';
import { JobPageSchema, type JobSummary } from '../api/schemas.ts';

/** How far back in submissions to look for jobs that ended in the last hour: jobs running longer are left out. */
export const LOOKBACK_MS = 2 * 60 * 60_000;
/** At most this many pages of 100 per refresh, so a busy tenant's chart costs a bounded number of reads. */
const MAX_PAGES = 10;

export interface RecentJobs {
  jobs: JobSummary[];
  /** The page limit was reached before the lookback: the chart shows at least these many. */
  truncated: boolean;
}

/**
 * The tenant's jobs submitted in the last two hours, newest first, from the job list (no endpoint counts
 * completions per minute): the throughput chart counts those that ended in the last hour by their `finishedAt`.
 */
export async function recentJobs(signal: AbortSignal, now = Date.now()): Promise<RecentJobs> {
  const jobs: JobSummary[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const answer = await api('/v1/jobs', JobPageSchema, { query: { limit: '100', cursor }, signal });
    jobs.push(...answer.items);
    const oldest = answer.items.at(-1);
    if (!answer.nextCursor || !oldest || Date.parse(oldest.createdAt) < now - LOOKBACK_MS) return { jobs, truncated: false };
    cursor = answer.nextCursor;
  }
  return { jobs, truncated: true };
}
