import { retryOnConflict } from './conflict-retry.ts';
import { ConcurrentModificationError } from './errors.ts';
import { JobStatus } from './job-status.ts';
import type { Clock, JobStore, SlotStore } from './ports.ts';

/** What a removed worker's release stops, and the task it then fails. */
export interface LostAttempt {
  attempts: number;
  taskToken: string;
}

/**
 * A removed worker's attempt, stopped on the job before its task is failed (the fleet's job releaser): marked
 * `stopRequested`, as the saga's StopWorkerProcess marks it, on condition that `workerId` still holds it. Answers the
 * attempt and its task token to fail, or undefined when the job moved on: another agent took the attempt over (its
 * message reappeared after the worker died), or the attempt ended. The mark and an agent's start are conditional
 * writes on the job, so one of them comes first: a start after the mark is refused (SagaService.recordRunning), and
 * a mark after a start finds another worker. Without it, the release could fail a task that a live agent had just
 * started, and the saga ran the job again after that agent finished it.
 *
 * A module of its own, not a SagaService method: the fleet's functions (the reaper, the workers API) use it, and the
 * saga's code would add about 15 KB to their bundles.
 */
export async function stopLostAttempt(deps: { store: Pick<JobStore, 'get'> & Pick<SlotStore, 'commitBookkeeping'>; clock: Clock }, jobId: string, workerId: string): Promise<LostAttempt | undefined> {
  const { store, clock } = deps;
  const read = () => store.get(jobId);
  const isConflict = (error: unknown): error is ConcurrentModificationError => error instanceof ConcurrentModificationError;
  return retryOnConflict(
    read,
    async (job) => {
      const held = job?.workerId === workerId && (job.status === JobStatus.DISPATCHED || job.status === JobStatus.RUNNING);
      if (!job || !held || !job.taskToken) return undefined;
      // Marked already (an earlier release whose SendTaskFailure failed): the token is answered again.
      if (!job.stopRequested) {
        const next = { ...job, stopRequested: true, version: job.version + 1, updatedAt: clock.now().toISOString() };
        await store.commitBookkeeping({ job: next, expected: { status: job.status, version: job.version } });
      }
      return { attempts: job.attempts, taskToken: job.taskToken };
    },
    isConflict,
    { fromConflict: (error) => (isConflict(error) ? error.current : undefined) },
  );
}
