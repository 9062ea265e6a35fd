import { createHash } from 'node:crypto';
import type { JobRecord } from '../../core/job.ts';
import { JobStatus } from '../../core/job-status.ts';
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

const isHeld = (status: JobStatus) => status === JobStatus.DISPATCHED || status === JobStatus.RUNNING;

export function toJobItem(job: JobRecord): JobItem {
  const held = isHeld(job.status) && job.overdueAt !== undefined;
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
 * The index attributes a patch from one status into another changes. A held job's shard comes with its overdueAt,
 * which only a whole write sets: a patch may keep a job held (DISPATCHED → RUNNING) or end its hold, not begin one.
 */
export function patchedIndexAttributes(tenantId: string, from: JobStatus, to: JobStatus): { set: Pick<JobItem, 'tenantStatus'>; remove: 'heldShard'[] } {
  if (!isHeld(from) && isHeld(to)) throw new Error(`A job patch cannot move a job from ${from} to ${to}; that needs a whole write`);
  return { set: { tenantStatus: tenantStatusKey(tenantId, to) }, remove: isHeld(to) ? [] : ['heldShard'] };
}
