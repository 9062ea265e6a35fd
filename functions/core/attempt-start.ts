import type { FailureReason } from './failure-reasons.ts';
import { JobStatus } from './job-status.ts';
import { startedByReport, type StartedAttempt } from './saga.ts';
import type { WorkerReport } from './saga-messages.ts';

/**
 * What an agent may do with the attempt it is about to start:
 * - proceed: RUNNING is recorded with this worker and the task token, and no cancel came first;
 * - cancelled: a cancel was accepted first: the command must not start; the agent fails the task with CANCELLED;
 * - over: the attempt is no longer the job's current one (a later attempt, another run, or the job ended), or it is
 *   not this agent's to run (another agent holds it, or it was stopped: a compensation, or its worker was removed).
 */
export type StartVerdict = 'proceed' | 'cancelled' | 'over';

/** Fails a saga task (SagaControl.failTask): a task the saga already answered or closed is no error. */
export type FailTask = (taskToken: string, reason: FailureReason, cause: Record<string, unknown>) => Promise<unknown>;

/**
 * The agent asks before it starts a command, and waits for the answer: the start and a cancel are both conditional
 * writes on the job, so exactly one of them comes first, and once a cancel is accepted (202) no command starts.
 *
 * `failStoppedTask`: an attempt stopped because its worker was removed (core/lost-attempt.ts) has its task failed by
 * that release; if the release's SendTaskFailure failed after the mark, the task stayed open and the saga would wait
 * for the dispatch timeout. The agent that took the attempt's reappeared message proves the task's token, so the
 * task is failed here, before the answer: the saga retries now. A second failure of an answered task is harmless.
 */
export async function decideStart(
  saga: { recordRunning(report: WorkerReport): Promise<StartedAttempt> },
  report: WorkerReport,
  failStoppedTask?: FailTask,
): Promise<StartVerdict> {
  const job = await saga.recordRunning(report);
  const current = job.run === report.run && job.attempts === report.attempt;
  if (!current || (job.status !== JobStatus.DISPATCHED && job.status !== JobStatus.RUNNING)) return 'over';
  if (job.cancelRequested) return 'cancelled';
  if (startedByReport(job, report)) return 'proceed';
  // Another worker holds this attempt now (its message reappeared and was taken while ours was being decided), another
  // copy of the dispatch started it (the same agent may hold both), or it was stopped and nobody does.
  if (failStoppedTask && job.stopRequested && job.taskToken !== undefined && job.taskToken === report.taskToken) {
    await failStoppedTask(job.taskToken, 'WORKER_LOST', { message: `Attempt ${job.attempts} was stopped when its worker was removed`, workerId: job.workerId });
  }
  return 'over';
}
