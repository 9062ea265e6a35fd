import type { JobRecord } from '../../core/job.ts';

/** Attributes that exist only to serve the indexes; they never leave the adapter. */
export interface JobItem extends JobRecord {
  tenantStatus: string;
  createdKey: string;
}

export const tenantStatusKey = (tenantId: string, status: string) => `${tenantId}#${status}`;

export function toJobItem(job: JobRecord): JobItem {
  return {
    ...job,
    tenantStatus: tenantStatusKey(job.tenantId, job.status),
    // createdAt first so the index sorts by time; the id breaks ties between jobs created in the same millisecond.
    createdKey: `${job.createdAt}#${job.jobId}`,
  };
}

export function fromJobItem(item: Record<string, unknown>): JobRecord {
  const { tenantStatus: _ts, createdKey: _ck, ...job } = item as unknown as JobItem;
  return job;
}
