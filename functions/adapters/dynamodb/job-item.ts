import { createHash } from 'node:crypto';
import type { JobRecord } from '../../core/job.ts';
import { JobStatus } from '../../core/job-status.ts';
import { OVERDUE_JOB_SHARDS } from '../../declarations/tables.ts';
import { JOB_EVENT_ATTRIBUTE } from './outbox-item.ts';

/** Attributes that exist only to serve the indexes; they never leave the adapter. */
export interface JobItem extends JobRecord {
  tenantStatus: string;
  createdKey: string;
  /**
   * The byOverdue index's partition: `held#N` while a worker holds the job, `queued#N` while a queued run waits for
   * its saga's first step (functions/core/reconciler.ts sweeps both). Absent otherwise, so the index holds nothing else.
   */
  heldShard?: string;
}

export const tenantStatusKey = (tenantId: string, status: string) => `${tenantId}#${status}`;

export type OverdueKind = 'held' | 'queued';

export const overdueShardKey = (kind: OverdueKind, shard: number) => `${kind}#${shard}`;

const shardOf = (jobId: string) => createHash('sha256').update(jobId).digest().readUInt32BE(0) % OVERDUE_JOB_SHARDS;

const isHeld = (status: JobStatus) => status === JobStatus.DISPATCHED || status === JobStatus.RUNNING;

/** Which part of the byOverdue index a job belongs in, if any: only a held or queued job with an overdue time. */
function overdueKind(job: JobRecord): OverdueKind | undefined {
  if (job.overdueAt === undefined) return undefined;
  if (isHeld(job.status)) return 'held';
  return job.status === JobStatus.QUEUED ? 'queued' : undefined;
}

export function toJobItem(job: JobRecord): JobItem {
  const kind = overdueKind(job);
  return {
    ...job,
    tenantStatus: tenantStatusKey(job.tenantId, job.status),
    // createdAt first so the index sorts by time; the id breaks ties between jobs created in the same millisecond.
    createdKey: `${job.createdAt}#${job.jobId}`,
    ...(kind ? { heldShard: overdueShardKey(kind, shardOf(job.jobId)) } : {}),
  };
}

export function fromJobItem(item: Record<string, unknown>): JobRecord {
  const { tenantStatus: _ts, createdKey: _ck, heldShard: _hs, [JOB_EVENT_ATTRIBUTE]: _carried, ...job } = item as unknown as JobItem & { [JOB_EVENT_ATTRIBUTE]?: string };
  return job;
}

/**
 * The index attributes a patch of a job changes, from its status now (`from`) to what the patch sets. A patch that
 * puts a job in the byOverdue index (a claim: into DISPATCHED) must set its `overdueAt` too; otherwise a patch may keep
 * the job where it is in the index (DISPATCHED → RUNNING) or take it out.
 */
export function patchedIndexAttributes(
  job: { jobId: string; tenantId: string },
  from: JobStatus,
  set: Pick<JobRecord, 'status'> & Partial<Pick<JobRecord, 'overdueAt'>>,
): { set: Pick<JobItem, 'tenantStatus' | 'heldShard'>; remove: 'heldShard'[] } {
  const to = set.status;
  const tenantStatus = tenantStatusKey(job.tenantId, to);
  if (!isHeld(from) && isHeld(to)) {
    if (set.overdueAt === undefined) throw new Error(`A job patch from ${from} to ${to} must set overdueAt: the job enters the byOverdue index`);
    return { set: { tenantStatus, heldShard: overdueShardKey('held', shardOf(job.jobId)) }, remove: [] };
  }
  const stays = from === to || (isHeld(from) && isHeld(to));
  return { set: { tenantStatus }, remove: stays ? [] : ['heldShard'] };
}
