import { JobStatus } from './job-status.ts';
import type { StartedAttempt } from './saga.ts';
import type { WorkerReport } from './saga-messages.ts';

/**
 * What an agent may do with the attempt it is about to start:
 * - proceed: RUNNING is recorded with this worker and the task token, and no cancel came first;
 * - cancelled: a cancel was accepted first: the command must not start; the agent fails the task with CANCELLED;
 * - over: the attempt is no longer the job's current one (a later attempt, another run, or the job ended), or it is
 *   not this agent's to run (another agent holds it, or it was stopped: a compensation, or its worker was removed).
 */
export type StartVerdict = 'proceed' | 'cancelled' | 'over';

/**
 * The agent asks before it starts a command, and waits for the answer: the start and a cancel are both conditional
 * writes on the job, so exactly one of them comes first, and once a cancel is accepted (202) no command starts.
 */
export async function decideStart(saga: { recordRunning(report: WorkerReport): Promise<StartedAttempt> }, report: WorkerReport): Promise<StartVerdict> {
  const job = await saga.recordRunning(report);
  const current = job.run === report.run && job.attempts === report.attempt;
  if (!current || (job.status !== JobStatus.DISPATCHED && job.status !== JobStatus.RUNNING)) return 'over';
  if (job.cancelRequested) return 'cancelled';
  // Another worker holds this attempt now (its message reappeared and was taken while ours was being decided), or it
  // was stopped and nobody does.
  return job.workerId === report.workerId && job.taskToken === report.taskToken ? 'proceed' : 'over';
}
