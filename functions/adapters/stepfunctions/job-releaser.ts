import type { JobReleaser } from '../../core/fleet/ports.ts';
import type { JobStore } from '../../core/ports.ts';
import { JobStatus } from '../../core/job-status.ts';
import type { SagaControl } from './saga-control.ts';

/**
 * Hands the jobs of a removed worker back to their sagas at once: each task is failed with WORKER_LOST, so the
 * saga retries the job under its policy instead of waiting for the dispatch message's visibility to lapse. Only
 * jobs still recorded on that worker are touched; a job that moved on is left alone.
 */
export class SagaJobReleaser implements JobReleaser {
  constructor(
    private readonly jobs: Pick<JobStore, 'get'>,
    private readonly saga: Pick<SagaControl, 'failTask'>,
  ) {}

  async releaseJobs(workerId: string, jobIds: readonly string[]): Promise<void> {
    for (const jobId of jobIds) {
      const job = await this.jobs.get(jobId);
      const held = job && job.workerId === workerId && (job.status === JobStatus.DISPATCHED || job.status === JobStatus.RUNNING) && job.taskToken;
      if (!held) continue;
      await this.saga.failTask(job.taskToken!, 'WORKER_LOST', { message: `Worker ${workerId} was removed while it ran attempt ${job.attempts}`, workerId });
    }
  }
}
