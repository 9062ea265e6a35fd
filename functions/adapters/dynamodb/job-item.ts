import { createHash } from 'node:crypto';
import type { JobRecord } from '../../core/job.ts';
import { isTerminal, JobStatus } from '../../core/job-status.ts';
import { HELD_JOB_SHARDS } from '../../declarations/tables.ts';

/** Attributes that exist only to serve the indexes; they never leave the adapter. */
export interface JobItem extends JobRecord {
  tenantStatus: string;
  createdKey: string;
  /** Only while a worker holds the job, so the byOverdue index holds nothing else. */
  heldShard?: string;
}

export const tenantStatusKey = (tenantId: string, status: string) => `${tenantId}#${status}`;

export const heldShardKey = (shard: number) => `held#${shard}`;

const shardOf = (jobId: string) => createHash('sha256').update(jobId).digest().readUInt32BE(0) % HELD_JOB_SHARDS;

export function toJobItem(job: JobRecord): JobItem {
  const held = (job.status === JobStatus.DISPATCHED || job.status === JobStatus.RUNNING) && job.overdueAt !== undefined;
  return {
    ...job,
    tenantStatus: tenantStatusKey(job.tenantId, job.status),
    // createdAt first so the index sorts by time; the id breaks ties between jobs created in the same millisecond.
    createdKey: `${job.createdAt}#${job.jobId}`,
    ...(held ? { heldShard: heldShardKey(shardOf(job.jobId)) } : {}),
  };
}

export function fromJobItem(item: Record<string, unknown>): JobRecord {
  const { tenantStatus: _ts, createdKey: _ck, heldShard: _hs, ...job } = item as unknown as JobItem;
  return job;
}

/**
 * The index attributes a patch into `status` changes. Only into an ended status: a held job's shard comes with its
 * overdueAt, which only a whole write of the job sets, and an ended job leaves the overdue index.
 */
export function endedIndexAttributes(tenantId: string, status: JobStatus): { set: Pick<JobItem, 'tenantStatus'>; remove: 'heldShard' } {
  if (!isTerminal(status)) throw new Error(`A job patch may only end a job; ${status} needs a whole write`);
  return { set: { tenantStatus: tenantStatusKey(tenantId, status) }, remove: 'heldShard' };
}
