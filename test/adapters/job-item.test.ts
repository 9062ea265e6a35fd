import { describe, expect, it } from 'vitest';
import { fromJobItem, patchedIndexAttributes, toJobItem } from '../../functions/adapters/dynamodb/job-item.ts';
import type { JobRecord } from '../../functions/core/job.ts';
import { JobStatus } from '../../functions/core/job-status.ts';
import { sampleJob } from '../support/events.ts';

const overdueAt = '2026-01-01T00:05:00.000Z';
const withStatus = (status: JobRecord['status'], extra: Partial<JobRecord> = {}): JobRecord => ({ ...sampleJob(), status, ...extra });

describe('The byOverdue index attributes of a job item', () => {
  it('puts a held job under held#N and a queued run under queued#N, both sorted by their overdue time', () => {
    const held = toJobItem(withStatus(JobStatus.RUNNING, { overdueAt }));
    const queued = toJobItem(withStatus(JobStatus.QUEUED, { overdueAt }));
    expect(held.heldShard).toMatch(/^held#[0-3]$/);
    // The same job id lands in the same shard whichever part of the index it is in.
    expect(queued.heldShard).toBe(held.heldShard!.replace('held#', 'queued#'));
    expect(queued.overdueAt).toBe(overdueAt);
  });

  it('leaves out of the index a job with no overdue time, and one that waits in its backoff or has ended', () => {
    expect(toJobItem(withStatus(JobStatus.QUEUED)).heldShard).toBeUndefined();
    for (const status of [JobStatus.RETRY_SCHEDULED, JobStatus.SUCCEEDED, JobStatus.CANCELLED, JobStatus.DEAD_LETTERED]) {
      expect(toJobItem(withStatus(status, { overdueAt })).heldShard).toBeUndefined();
    }
  });

  it('never lets the index attributes out of the adapter', () => {
    const job = withStatus(JobStatus.QUEUED, { overdueAt });
    expect(fromJobItem(toJobItem(job) as unknown as Record<string, unknown>)).toEqual(job);
  });

  it('keeps a patched job where it is in the index while it stays held or queued, and takes it out otherwise', () => {
    const job = { jobId: 'job_1', tenantId: 'acme' };
    expect(patchedIndexAttributes(job, JobStatus.DISPATCHED, { status: JobStatus.RUNNING }).remove).toEqual([]);
    expect(patchedIndexAttributes(job, JobStatus.QUEUED, { status: JobStatus.QUEUED }).remove).toEqual([]);
    expect(patchedIndexAttributes(job, JobStatus.QUEUED, { status: JobStatus.CANCELLED })).toEqual({ set: { tenantStatus: 'acme#CANCELLED' }, remove: ['heldShard'] });
    expect(patchedIndexAttributes(job, JobStatus.RUNNING, { status: JobStatus.SUCCEEDED }).remove).toEqual(['heldShard']);
    expect(() => patchedIndexAttributes(job, JobStatus.QUEUED, { status: JobStatus.DISPATCHED })).toThrow(/must set overdueAt/);
    // A claim's patch puts the job in the held part of the index, in the shard a whole write would choose.
    const claimed = patchedIndexAttributes(job, JobStatus.RETRY_SCHEDULED, { status: JobStatus.DISPATCHED, overdueAt: '2026-12-01T00:00:00.000Z' });
    expect(claimed).toEqual({ set: { tenantStatus: 'acme#DISPATCHED', heldShard: toJobItem({ ...sampleJob('job_1'), status: JobStatus.DISPATCHED, overdueAt: '2026-12-01T00:00:00.000Z' }).heldShard }, remove: [] });
  });
});
