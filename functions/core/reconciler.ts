import { describeFailure } from './failure-reasons.ts';
import { isTerminal, JobStatus } from './job-status.ts';
import type { JobRecord } from './job.ts';
import type { Clock, JobStore } from './ports.ts';
import type { SagaService } from './saga.ts';
import { TaskSuccessSchema, type TaskSuccess } from './saga-messages.ts';
import { sagaExecutionName } from '../declarations/statemachines.ts';

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/** How an execution ended, as the status-change event or DescribeExecution tells it; GONE when it does not exist. */
export interface ExecutionEnd {
  name: string;
  status: ExecutionStatus | 'GONE';
  error?: string;
  cause?: string;
}

/** The saga's executions as the reconciler needs them (Step Functions in AWS, the local engine locally). */
export interface SagaExecutions {
  describe(name: string): Promise<ExecutionEnd>;
  /** What the last state of `stateNames` to exit in that execution exited with, parsed; undefined if none exited. */
  stateOutput(name: string, stateNames: readonly string[]): Promise<unknown>;
  stop(name: string, error: string, cause: string): Promise<void>;
  /** Starts the execution for a job run; a repeated start of the same name is not an error. */
  start(name: string, input: { jobId: string; run: number }): Promise<void>;
}

/** Jobs whose overdue time has passed (the byOverdue index). */
export interface OverdueJobs {
  /** Held jobs (DISPATCHED, RUNNING). */
  overdue(now: Date, limit: number): Promise<string[]>;
  /** Queued runs that no saga step has claimed or parked. */
  queuedPastDue(now: Date, limit: number): Promise<string[]>;
  /** Takes a queued run whose saga is known to be started out of the index. */
  clearQueuedDue(jobId: string, run: number): Promise<void>;
}

export type ReconcileOutcome = 'in-order' | 'not-current' | 'still-running' | 'success-recorded' | 'failure-recorded' | 'resumed' | 'start-ensured';

/**
 * The states whose exit carries the worker's success (`$.output`): ClaimJob, and Dispatch in executions started on
 * the definition before decision 0025.
 */
const ANSWERED_STATES = ['ClaimJob', 'Dispatch'];
const SWEEP_PAGE = 100;
/**
 * Queued runs looked at per sweep. Most are parked for a slot (their saga started and waits), each costs a read, a
 * StartExecution and a write once, so a large backlog is worked through quickly without crowding out held jobs.
 */
const QUEUED_SWEEP_PAGE = 500;

const holdsWorker = (job: JobRecord) => job.status === JobStatus.DISPATCHED || job.status === JobStatus.RUNNING;
const waits = (job: JobRecord) => job.status === JobStatus.QUEUED || job.status === JobStatus.RETRY_SCHEDULED;

/**
 * Repairs what an abnormal end of a saga execution leaves behind. A FAILED, TIMED_OUT or ABORTED execution (a step
 * with no Catch that kept failing, an operator's StopExecution, States.DataLimitExceeded) stops without recording
 * anything: its job stays DISPATCHED or RUNNING with a tenant slot held, or waits for a claim that never comes.
 * Fed by the execution status-change events, and by a sweep of held jobs past their overdue time for an event that
 * never arrived. Every path is idempotent: the event and the sweep may both see the same execution.
 *
 * A held job whose Dispatch already returned a success is recorded SUCCEEDED: the command ran, it must not run again.
 * Otherwise the attempt fails (INFRASTRUCTURE_ERROR) under the job's retry policy, and a run that is to go on does so
 * in a new execution, since an ended execution cannot be resumed.
 */
export class JobReconciler {
  constructor(
    private readonly deps: {
      store: Pick<JobStore, 'get'>;
      saga: Pick<SagaService, 'recordSuccess' | 'recordFailure' | 'stopWorkerProcess' | 'handOver'>;
      executions: SagaExecutions;
      overdueJobs: OverdueJobs;
      clock: Clock;
    },
  ) {}

  /** An execution of the run ended (or is gone): make the job tell the truth, and carry the run on if it should. */
  async executionEnded(jobId: string, run: number, end: ExecutionEnd): Promise<ReconcileOutcome> {
    const job = await this.deps.store.get(jobId);
    if (!job || job.run !== run || isTerminal(job.status)) return 'in-order';
    if ((job.execution ?? sagaExecutionName(jobId, run)) !== end.name) return 'not-current';
    if (end.status === 'RUNNING') return 'still-running';
    const correlationId = end.name;
    if (holdsWorker(job)) {
      const success = await this.recordedSuccess(job, end.name);
      if (success) {
        await this.deps.saga.recordSuccess({ jobId, run, attempt: job.attempts, output: success, correlationId });
        return 'success-recorded';
      }
      await this.deps.saga.stopWorkerProcess({ jobId, run, correlationId });
      const outcome = await this.deps.saga.recordFailure({
        jobId,
        run,
        correlationId,
        heldAttempt: job.attempts,
        failure: describeFailure('INFRASTRUCTURE_ERROR', `The job's saga execution ${end.name} ended ${end.status}${end.error ? ` (${end.error})` : ''} while attempt ${job.attempts} was held; the attempt counts.`),
      });
      if (outcome.action !== 'retry') return 'failure-recorded';
    } else if (!waits(job)) {
      return 'in-order';
    }
    const next = await this.deps.saga.handOver({ jobId, run, correlationId, from: end.name });
    if (!next) return 'in-order';
    await this.deps.executions.start(next, { jobId, run });
    return 'resumed';
  }

  /**
   * Held jobs past their overdue time: a still-running execution is stopped first, then each is reconciled. Then
   * queued runs past theirs: their saga is started, under the name the API and the saga starter use.
   */
  async sweepOverdue(): Promise<{ swept: number; outcomes: Partial<Record<ReconcileOutcome, number>> }> {
    const now = this.deps.clock.now();
    const held = await this.deps.overdueJobs.overdue(now, SWEEP_PAGE);
    const queued = await this.deps.overdueJobs.queuedPastDue(now, QUEUED_SWEEP_PAGE);
    const outcomes: Partial<Record<ReconcileOutcome, number>> = {};
    const count = (outcome: ReconcileOutcome) => (outcomes[outcome] = (outcomes[outcome] ?? 0) + 1);
    for (const jobId of held) count(await this.sweepOne(jobId));
    for (const jobId of queued) count(await this.ensureStarted(jobId));
    return { swept: held.length + queued.length, outcomes };
  }

  /**
   * A queued run no saga step has taken yet. Starting its execution by name is idempotent: a parked run's execution
   * exists and waits, a lost start happens now. Either way the run leaves the index; an execution that then ends
   * abnormally reaches executionEnded through its status-change event.
   */
  private async ensureStarted(jobId: string): Promise<ReconcileOutcome> {
    const job = await this.deps.store.get(jobId);
    if (!job || job.status !== JobStatus.QUEUED) return 'in-order';
    await this.deps.executions.start(job.execution ?? sagaExecutionName(jobId, job.run), { jobId, run: job.run });
    await this.deps.overdueJobs.clearQueuedDue(jobId, job.run);
    return 'start-ensured';
  }

  private async sweepOne(jobId: string): Promise<ReconcileOutcome> {
    const job = await this.deps.store.get(jobId);
    if (!job || !holdsWorker(job)) return 'in-order';
    const name = job.execution ?? sagaExecutionName(jobId, job.run);
    let end = await this.deps.executions.describe(name);
    if (end.status === 'RUNNING') {
      const cause = `Job ${jobId} was still held at ${this.deps.clock.now().toISOString()}, past its overdue time ${job.overdueAt ?? '?'}`;
      await this.deps.executions.stop(name, 'Overdue', cause);
      end = { name, status: 'ABORTED', error: 'Overdue', cause };
    }
    return this.executionEnded(jobId, job.run, end);
  }

  /** A success the worker answered for this very attempt, that RecordSuccess never wrote. */
  private async recordedSuccess(job: JobRecord, execution: string): Promise<TaskSuccess | undefined> {
    const state = (await this.deps.executions.stateOutput(execution, ANSWERED_STATES)) as { dispatch?: { attempt?: unknown }; output?: unknown } | undefined;
    const parsed = TaskSuccessSchema.safeParse(state?.output);
    if (!parsed.success) return undefined;
    // The attempt answered: handed back by the agent, or the claim's result in executions before decision 0025. An
    // answer that names neither (an agent older than 0025) cannot be tied to this attempt, and is not recorded.
    const attempt = parsed.data.attempt ?? state?.dispatch?.attempt;
    return attempt === job.attempts ? parsed.data : undefined;
  }
}
