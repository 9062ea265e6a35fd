import type { JobReleaser } from '../../core/fleet/ports.ts';
import type { LostAttempt } from '../../core/lost-attempt.ts';
import type { SagaControl } from './saga-control.ts';

/**
 * Hands the jobs of a removed worker back to their sagas at once: each task is failed with WORKER_LOST, so the
 * saga retries the job under its policy instead of waiting for the dispatch message's visibility to lapse. Each
 * attempt is first stopped on the job, on condition that this worker still holds it (core/lost-attempt.ts):
 * a job that moved on, to another agent that took its reappeared message or to its end, is left alone.
 */
export class SagaJobReleaser implements JobReleaser {
  constructor(
    private readonly stopLostAttempt: (jobId: string, workerId: string) => Promise<LostAttempt | undefined>,
    private readonly saga: Pick<SagaControl, 'failTask'>,
  ) {}

  async releaseJobs(workerId: string, jobIds: readonly string[]): Promise<void> {
    for (const jobId of jobIds) {
      const lost = await this.stopLostAttempt(jobId, workerId);
      if (lost) await this.saga.failTask(lost.taskToken, 'WORKER_LOST', { message: `Worker ${workerId} was removed while it ran attempt ${lost.attempts}`, workerId });
    }
  }
}
