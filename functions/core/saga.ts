import type { QueueDefinition } from '../declarations/queues.ts';
import { resumedExecutionName, sagaExecutionName } from '../declarations/statemachines.ts';
import { dispatchQueue, WORKER_CLASSES } from '../declarations/workers.ts';
import { retryOnConflict } from './conflict-retry.ts';
import { ConcurrentModificationError, IllegalTransitionError, JobNotFoundError } from './errors.ts';
import { freesSlot, jobEvent, type EventContext, type EventEnvelope } from './events.ts';
import { describeFailure, type JobFailure } from './failure-reasons.ts';
import { isTerminal, JobStatus } from './job-status.ts';
import { LIMITS, type JobRecord, type JobResult } from './job.ts';
import { transitionChange, type Clock, type JobChange, type JobPatchChange, type JobPatchStore, type JobStore, type SlotDelta, type SlotStore } from './ports.ts';
import { DEFAULT_RETRY_POLICY, retryPolicy, type RetryPolicy } from './retry-policy.ts';
import { JobNotClaimableError, TenantRunsParkedError, UnknownWorkerClassError } from './saga-errors.ts';
import { categorizeError, decideAfterFailure, type CategorizedFailure, type StepError } from './saga-failure.ts';
import { claimSpec, type ClaimSpec } from './claim-spec.ts';
import type { DispatchMessage, JobFacts, TaskSuccess, WorkerReport } from './saga-messages.ts';

/** Who the saga's own events name as the actor (e.g. `cancelledBy` when it ends a cancel-requested job). */
export const SAGA_ACTOR = 'forgeflow-saga';
export const DEFAULT_TENANT_SLOT_LIMIT = 20;
/**
 * How long a dispatch may wait in its queue for a worker. It is the ClaimJob state's HeartbeatSeconds (a test holds
 * them equal): no heartbeat comes while the message waits, and an agent heartbeats from the moment it takes the
 * message until it answers. Generous: a backlog or a fleet starting from zero must not kill jobs that never ran; a
 * worker that dies with a job is found by visibility (WORKER_LOST) long before this.
 */
export const DEFAULT_DISPATCH_GRACE_SECONDS = 6 * 3600;
/**
 * The ClaimJob state's TimeoutSeconds: the longest a dispatch can take, a job of the longest timeout after the whole
 * grace in the queue (a test holds the ASL to it). Each job's own bound is its overdue time, below.
 */
export const CLAIM_TASK_TIMEOUT_SECONDS = LIMITS.timeoutSecondsMax + DEFAULT_DISPATCH_GRACE_SECONDS;
/**
 * A job still held this long after its own timeout and the grace was stranded: its agent neither answered nor
 * stopped heartbeating, or its execution ended abnormally and the event was lost. The reconciler's sweep ends it.
 */
export const OVERDUE_MARGIN_SECONDS = 15 * 60;

/**
 * The forward steps with their undo, in forward order. On failure the undos run last-in first-out, as in the
 * Temporal saga sample: the ASL's failure path visits them in COMPENSATION_ORDER (a test holds it to that). Both
 * steps happen in one state, ClaimJob, whose function claims and then sends the dispatch with the state's task
 * token (docs/decisions/0025): a step is an effect to undo, not a state.
 */
export const SAGA_STEPS = [
  { step: 'ClaimJob', compensation: 'ReleaseSlot' },
  { step: 'Dispatch', compensation: 'StopWorkerProcess' },
] as const;
export type CompensationName = (typeof SAGA_STEPS)[number]['compensation'];
export const COMPENSATION_ORDER: readonly CompensationName[] = SAGA_STEPS.map((s) => s.compensation).reverse();

/**
 * What a claim dispatches: the DispatchMessage fields but the task token, and the queue to send it to. Its spec part
 * (command, where it runs, and the facts that let RUNNING and SUCCEEDED name the job without reading it) is ClaimSpec.
 */
export interface DispatchPayload extends ClaimSpec {
  jobId: string;
  tenantId: string;
  run: number;
  attempt: number;
  queueUrl: string;
  /** Read only by executions started before ClaimJob sent the dispatch itself: their Dispatch state waits this long. */
  dispatchTimeoutSeconds: number;
}

/** The dispatch message of a claim: what an agent needs to run the attempt and answer its task. Pure. */
export function dispatchMessage(payload: DispatchPayload, taskToken: string): DispatchMessage {
  const { queueUrl: _queue, dispatchTimeoutSeconds: _timeout, ...fields } = payload;
  return { ...fields, taskToken };
}

/** What a claim assumes of the stored job when its execution knows it: its spec, its status and attempts so far. */
export interface KnownClaim {
  spec: ClaimSpec;
  status: typeof JobStatus.QUEUED | typeof JobStatus.RETRY_SCHEDULED;
  attempts: number;
}

/** Where a step left the job. */
export type SagaOutcome = Pick<JobRecord, 'jobId' | 'run' | 'status'>;

/** Where an attempt stands once its start is recorded (or found over): what an agent's start gate decides from. */
export type StartedAttempt = SagaOutcome & Pick<JobRecord, 'attempts' | 'cancelRequested' | 'stopRequested' | 'taskToken' | 'workerId' | 'dispatchMessageId'>;

export interface JobRun {
  jobId: string;
  run: number;
  /** Ties the saga's events to the execution; defaults to the execution name. */
  correlationId?: string;
}

export type FailureOutcome = { action: 'retry'; status: typeof JobStatus.RETRY_SCHEDULED; waitSeconds: number } | { action: 'end'; status: JobStatus };

export interface CompensationOutcome {
  compensation: CompensationName;
  /** False when there was nothing to undo: the step never ran, or this compensation already ran. */
  applied: boolean;
}

export interface SagaServiceDeps {
  store: JobStore & SlotStore & JobPatchStore;
  clock: Clock;
  /** URL of a declared dispatch queue; only ClaimJob needs it. */
  queueUrl?: (queue: QueueDefinition) => string;
  tenantSlotLimit?: (tenantId: string) => number;
  /** Backoff base and cap; the number of attempts is each job's own `maxAttempts`. */
  retryPolicy?: Pick<RetryPolicy, 'baseSeconds' | 'capSeconds'>;
  random?: () => number;
  dispatchGraceSeconds?: number;
}

/**
 * The report comes from another copy of the dispatch than the one the attempt started from (JobRecord.dispatchMessageId).
 * Unknown when either side has no id (agents before 0.3.0): those are treated as the same copy, as before.
 */
export const isOtherCopy = (job: Pick<JobRecord, 'dispatchMessageId'>, report: Pick<WorkerReport, 'messageId'>): boolean =>
  job.dispatchMessageId !== undefined && report.messageId !== undefined && job.dispatchMessageId !== report.messageId;

/** The attempt was started from this very report's copy, by its worker with its token: a repeat of that start. */
export const startedByReport = (job: Pick<JobRecord, 'workerId' | 'taskToken' | 'dispatchMessageId'>, report: WorkerReport): boolean =>
  job.workerId === report.workerId && job.taskToken === report.taskToken && !isOtherCopy(job, report);

const { QUEUED, DISPATCHED, RUNNING, RETRY_SCHEDULED, SUCCEEDED, FAILED, CANCELLED, DEAD_LETTERED } = JobStatus;
const holdsWorker = (job: JobRecord) => job.status === DISPATCHED || job.status === RUNNING;

/**
 * The job saga's steps (docs/architecture.md): claim, record the start, record the result, categorize a failure,
 * compensate, decide. Each step is one JobStore commit (the job conditioned on status and version, its event,
 * its counters and its slot delta) and is idempotent, because Step Functions and SQS may run it twice.
 */
export class SagaService {
  constructor(private readonly deps: SagaServiceDeps) {}

  /**
   * QUEUED or RETRY_SCHEDULED → DISPATCHED: one more attempt, one tenant slot. Handed what its execution knows of the
   * job (`known`), the usual case is one conditional patch and no read (claimAssumed); anything else reads and decides.
   */
  claim(input: JobRun & { known?: KnownClaim | undefined }): Promise<DispatchPayload> {
    const missing = () => new JobNotClaimableError(input.jobId, 'it does not exist');
    const { known } = input;
    const assumable = known && (WORKER_CLASSES as readonly string[]).includes(known.spec.workerClass);
    return this.assumeThenDecide(
      assumable ? () => this.claimAssumed(input, known) : undefined,
      (current) => this.mutate(input.jobId, missing, (job) => this.decideClaim(input, job), current),
    );
  }

  private async decideClaim(input: JobRun, job: JobRecord): Promise<DispatchPayload> {
    if (job.run !== input.run) throw new JobNotClaimableError(job.jobId, `it is on run ${job.run}, not ${input.run}`);
    // A claim that committed and is run again (a Lambda retry) gets the same answer, and no second slot.
    if (holdsWorker(job)) return this.payload(job, claimSpec(job));
    if (job.status !== QUEUED && job.status !== RETRY_SCHEDULED) throw new JobNotClaimableError(job.jobId, `it is ${job.status}`);
    if (!(WORKER_CLASSES as readonly string[]).includes(job.workerClass)) throw new UnknownWorkerClassError(job.workerClass, WORKER_CLASSES);
    // The previous attempt's traces go: the events keep them.
    const { taskToken: _t, stopRequested: _s, workerId: _w, startedAt: _b, finishedAt: _e, result: _r, failure: _f, ...fresh } = job;
    const { execution, overdueAt } = this.dispatchTerms(input, job.timeoutSeconds);
    const { next, context } = this.next(input, fresh, { status: DISPATCHED, attempts: job.attempts + 1, slotHeld: true, execution, overdueAt });
    const payload = this.payload(next, claimSpec(next));
    await this.commit(job, next, jobEvent('JobDispatched', next, job.status, {}, context), this.reserve(job.tenantId));
    return payload;
  }

  /** The claim decideClaim would make of a job that is as `known` says, written as a patch conditioned on just that. */
  private async claimAssumed(input: JobRun, known: KnownClaim): Promise<DispatchPayload> {
    const { jobId, run } = input;
    const { spec, status } = known;
    const attempts = known.attempts + 1;
    const { execution, overdueAt } = this.dispatchTerms(input, spec.timeoutSeconds);
    const time = this.deps.clock.now().toISOString();
    const context = { time, correlationId: input.correlationId ?? sagaExecutionName(jobId, run) };
    const event = jobEvent('JobDispatched', { ...spec.facts, jobId, run, attempts, status: DISPATCHED }, status, {}, context);
    await this.deps.store.commitPatch({
      jobId,
      tenantId: spec.facts.tenantId,
      expected: { status, run, attempts: known.attempts, slotHeld: false, cancelRequested: false },
      set: { status: DISPATCHED, attempts, slotHeld: true, execution, overdueAt, updatedAt: time },
      remove: ['taskToken', 'dispatchMessageId', 'stopRequested', 'workerId', 'startedAt', 'finishedAt', 'result', 'failure'],
      event,
      statusMove: { from: status, to: DISPATCHED, priority: spec.facts.priority },
      slot: this.reserve(spec.facts.tenantId),
    });
    return this.payload({ jobId, run, attempts }, spec);
  }

  /** The execution that holds the attempt, and when it is overdue: its dispatch timeout and a margin from now. */
  private dispatchTerms(input: JobRun, timeoutSeconds: number): Pick<JobRecord, 'execution' | 'overdueAt'> {
    const execution = input.correlationId ?? sagaExecutionName(input.jobId, input.run);
    const overdueAt = new Date(this.deps.clock.now().getTime() + (this.dispatchTimeoutSeconds(timeoutSeconds) + OVERDUE_MARGIN_SECONDS) * 1000).toISOString();
    return { execution, overdueAt };
  }

  private reserve(tenantId: string): SlotDelta {
    return { tenantId, delta: 1, limit: this.deps.tenantSlotLimit?.(tenantId) ?? DEFAULT_TENANT_SLOT_LIMIT };
  }

  /**
   * DISPATCHED → RUNNING, keeping the worker and the task token. Returns where the attempt stands, so the caller sees
   * `cancelRequested` and whose task token won. With the dispatch's facts, the usual case needs no read (see
   * startRunning).
   */
  recordRunning(report: WorkerReport): Promise<StartedAttempt> {
    const { facts } = report;
    return this.assumeThenDecide(
      facts && (() => this.startRunning(report, facts)),
      (known) => this.mutate(report.jobId, notFound(report.jobId), (job) => this.decideRunning(report, job), known),
    );
  }

  /** DISPATCHED, not cancelled → RUNNING as a patch; anything else fails its condition and goes to decideRunning. */
  private async startRunning(report: WorkerReport, facts: JobFacts): Promise<StartedAttempt> {
    const { jobId, run, attempt: attempts, workerId, startedAt, taskToken, messageId: dispatchMessageId } = report;
    const time = this.deps.clock.now().toISOString();
    const context = { time, correlationId: sagaExecutionName(jobId, run) };
    const event = jobEvent('JobRunning', { ...facts, jobId, run, attempts, status: RUNNING }, DISPATCHED, { workerId }, context);
    await this.deps.store.commitPatch({
      jobId,
      tenantId: facts.tenantId,
      expected: { status: DISPATCHED, run, attempts, slotHeld: true, cancelRequested: false, stopRequested: false },
      set: { status: RUNNING, workerId, startedAt, taskToken, ...(dispatchMessageId ? { dispatchMessageId } : {}), updatedAt: time },
      remove: [],
      event,
      statusMove: { from: DISPATCHED, to: RUNNING, priority: facts.priority },
    });
    return { jobId, run, attempts, status: RUNNING, cancelRequested: false, taskToken, workerId, ...(dispatchMessageId ? { dispatchMessageId } : {}) };
  }

  private async decideRunning(report: WorkerReport, job: JobRecord): Promise<JobRecord> {
    // A late report of an earlier attempt or an ended attempt changes nothing.
    if (job.run !== report.run || job.attempts !== report.attempt || !holdsWorker(job)) return job;
    // Started already: by this very copy (a repeated report), or by another copy of the same dispatch, which must not
    // start it again nor take it over (decideStart tells the two apart).
    if (job.status === RUNNING && (startedByReport(job, report) || isOtherCopy(job, report))) return job;
    // Stopped (a compensation, or the release of a removed worker's jobs, core/lost-attempt.ts): no agent starts it.
    if (job.stopRequested) return job;
    // Cancelled before it started: the command never runs (the agent fails the task), so RUNNING would be untrue.
    if (job.cancelRequested && job.status === DISPATCHED) return job;
    // RUNNING again with another worker: the first died and the message reappeared (docs/architecture.md, liveness).
    const copy = report.messageId ? { dispatchMessageId: report.messageId } : {};
    const { next, context } = this.next(report, job, { status: RUNNING, workerId: report.workerId, startedAt: report.startedAt, taskToken: report.taskToken, ...copy });
    await this.commit(job, next, jobEvent('JobRunning', next, job.status, { workerId: report.workerId }, context));
    return next;
  }

  /**
   * → SUCCEEDED with the result, freeing the slot in the same commit. A command that finished after a cancel was
   * accepted ends CANCELLED (its result kept): the user was told it would stop; only one that had already finished
   * before the cancel keeps its success.
   */
  recordSuccess(input: JobRun & { attempt?: number | undefined; output: TaskSuccess; facts?: JobFacts | undefined }): Promise<SagaOutcome> {
    const { facts, attempt } = input;
    return this.assumeThenDecide(
      facts && attempt !== undefined ? () => this.succeedRunning({ ...input, attempt }, facts) : undefined,
      async (known) => {
        const job = await this.mutate(input.jobId, notFound(input.jobId), (current) => this.decideSuccess(input, current), known);
        return { jobId: job.jobId, run: job.run, status: job.status };
      },
    );
  }

  /**
   * The write that assumes the usual case from the facts it was handed (no read), when there are facts; if the job is
   * not as assumed, the read-and-decide path, starting from the job the failed condition returned.
   */
  private async assumeThenDecide<T>(assumed: (() => Promise<T>) | undefined, decide: (known?: JobRecord) => Promise<T>): Promise<T> {
    if (!assumed) return decide();
    try {
      return await assumed();
    } catch (error) {
      if (!(error instanceof ConcurrentModificationError)) throw error;
      return decide(error.current);
    }
  }

  /**
   * The usual case, RUNNING → SUCCEEDED, as a patch of what the execution's state knows: no read. Anything else (not
   * RUNNING yet, cancel requested, another attempt, a repeat) fails its condition, and the stored job it returns goes
   * to decideSuccess.
   */
  private async succeedRunning(input: JobRun & { attempt: number; output: TaskSuccess }, facts: JobFacts): Promise<SagaOutcome> {
    const { jobId, run, attempt: attempts, output } = input;
    const time = this.deps.clock.now().toISOString();
    const result: JobResult = { exitCode: output.exitCode, durationMs: output.durationMs, outputTail: output.outputTail };
    const context = { time, correlationId: input.correlationId ?? sagaExecutionName(jobId, run) };
    const event = jobEvent('JobSucceeded', { ...facts, jobId, run, attempts, status: SUCCEEDED }, RUNNING, { result }, context);
    await this.commitMarked({
      jobId,
      tenantId: facts.tenantId,
      expected: { status: RUNNING, run, attempts, slotHeld: true, cancelRequested: false },
      set: { status: SUCCEEDED, result, workerId: output.workerId, finishedAt: output.finishedAt, slotHeld: false, updatedAt: time },
      remove: ['taskToken', 'failure'],
      event,
      statusMove: { from: RUNNING, to: SUCCEEDED, priority: facts.priority },
      slot: { tenantId: facts.tenantId, delta: -1 },
    }, (change) => this.deps.store.commitPatch(change));
    return { jobId, run, status: SUCCEEDED };
  }

  /**
   * Without the attempt (an agent that does not hand it back), the success is the current attempt's: it came through
   * the task token of this execution's latest claim, and each claim is of the job's current attempt.
   */
  private async decideSuccess(input: JobRun & { attempt?: number | undefined; output: TaskSuccess }, job: JobRecord): Promise<JobRecord> {
    if (job.run === input.run && (job.status === SUCCEEDED || (job.status === CANCELLED && job.result))) return job;
    if (job.run !== input.run || job.attempts !== (input.attempt ?? job.attempts)) throw new IllegalTransitionError(job.status, SUCCEEDED, job.jobId);
    const { output } = input;
    const result: JobResult = { exitCode: output.exitCode, durationMs: output.durationMs, outputTail: output.outputTail };
    if (job.cancelRequested && job.cancelRequestedAt && output.finishedAt > job.cancelRequestedAt) return this.cancelFinished(input, job, result);
    const { taskToken: _t, failure: _f, ...rest } = job;
    const { next, context } = this.next(input, rest, {
      status: SUCCEEDED,
      result,
      workerId: output.workerId,
      startedAt: job.startedAt ?? output.startedAt,
      finishedAt: output.finishedAt,
      slotHeld: false,
    });
    await this.commit(job, next, jobEvent('JobSucceeded', next, job.status, { result }, context), this.release(job));
    return next;
  }

  private async cancelFinished(input: JobRun & { output: TaskSuccess }, job: JobRecord, result: JobResult): Promise<JobRecord> {
    const { output } = input;
    const failure = describeFailure('CANCELLED', `Cancelled on request at ${job.cancelRequestedAt}; the command had not finished then (it exited ${output.exitCode} at ${output.finishedAt}).`);
    const { taskToken: _t, ...rest } = job;
    const { next, context } = this.next(input, rest, { status: CANCELLED, result, failure, workerId: output.workerId, finishedAt: output.finishedAt, slotHeld: false });
    await this.commit(job, next, jobEvent('JobCancelled', next, job.status, { cancelledBy: SAGA_ACTOR }, context), this.release(job));
    return next;
  }

  /** The error the saga caught, as a catalog failure. Pure. */
  categorize(error: StepError): CategorizedFailure {
    return categorizeError(error);
  }

  /**
   * Undoes the dispatch: marks the attempt's process for stopping. The agent learns it from its next SendTaskHeartbeat,
   * which fails with TaskTimedOut once the ClaimJob state has ended (timeout, failure or abort); then it kills the
   * process group. The flag keeps the request on record for the reaper and for humans.
   */
  stopWorkerProcess(input: JobRun): Promise<CompensationOutcome> {
    return this.mutate(input.jobId, notFound(input.jobId), async (job) => {
      if (job.run !== input.run || !holdsWorker(job) || job.stopRequested) return { compensation: 'StopWorkerProcess', applied: false };
      const { next } = this.next(input, job, { stopRequested: true });
      await this.deps.store.commitBookkeeping({ job: next, expected: { status: job.status, version: job.version } });
      return { compensation: 'StopWorkerProcess', applied: true };
    });
  }

  /** Undoes ClaimJob: gives the tenant's slot back, clearing `slotHeld` in the same transaction. */
  releaseSlot(input: JobRun): Promise<CompensationOutcome> {
    return this.mutate(input.jobId, notFound(input.jobId), async (job) => {
      if (job.run !== input.run || !job.slotHeld) return { compensation: 'ReleaseSlot', applied: false };
      const { next } = this.next(input, job, { slotHeld: false });
      await this.deps.store.commitBookkeeping({ job: next, expected: { status: job.status, version: job.version }, slot: this.release(job) });
      return { compensation: 'ReleaseSlot', applied: true };
    });
  }

  /**
   * Decides and commits what the failure leads to (see decideAfterFailure). A run that already ended stays ended.
   * With `heldAttempt` (the reconciler), only that attempt, still held, is failed: a second reconciler that read the
   * job before the first one's commit finds it decided and changes nothing.
   */
  recordFailure(input: JobRun & CategorizedFailure & { heldAttempt?: number }): Promise<FailureOutcome> {
    return this.mutate(input.jobId, notFound(input.jobId), async (job) => {
      if (input.decisionId && job.lastDecisionId === input.decisionId) return recordedOutcome(job);
      if (job.run !== input.run || isTerminal(job.status)) return { action: 'end', status: job.status };
      if (input.heldAttempt !== undefined && (!holdsWorker(job) || job.attempts !== input.heldAttempt)) return recordedOutcome(job);
      const policy = retryPolicy({ ...DEFAULT_RETRY_POLICY, ...this.deps.retryPolicy, maxAttempts: job.maxAttempts });
      const decision = decideAfterFailure(job, input.failure, policy, this.deps.random);
      const { taskToken: _t, result: _r, ...rest } = job;
      const ended = { slotHeld: false, ...(input.result ? { result: input.result } : {}) };
      const decided = { ...(input.decisionId ? { lastDecisionId: input.decisionId } : {}), ...(decision.status === RETRY_SCHEDULED ? { retryDelaySeconds: decision.waitSeconds } : {}) };
      const { next, context: base } = this.next(input, rest, { ...ended, ...decided, status: decision.status, failure: input.failure });
      const context = input.decisionId ? { ...base, eventId: input.decisionId } : base;
      if (decision.status !== RETRY_SCHEDULED) next.finishedAt = context.time;
      let event: EventEnvelope;
      switch (decision.status) {
        case CANCELLED:
          next.failure = cancelledFailure(input.failure);
          event = jobEvent('JobCancelled', next, job.status, { cancelledBy: SAGA_ACTOR }, context);
          break;
        case FAILED:
          event = jobEvent('JobFailed', next, job.status, { failure: input.failure, ...(input.result ? { result: input.result } : {}) }, context);
          break;
        case DEAD_LETTERED:
          event = jobEvent('JobDeadLettered', next, job.status, { failure: input.failure }, context);
          break;
        case RETRY_SCHEDULED:
          event = jobEvent('JobRetryScheduled', next, job.status, { failure: input.failure, delaySeconds: decision.waitSeconds }, context);
          break;
      }
      await this.commit(job, next, event, this.release(job));
      return decision.status === RETRY_SCHEDULED
        ? { action: 'retry', status: RETRY_SCHEDULED, waitSeconds: decision.waitSeconds }
        : { action: 'end', status: decision.status };
    });
  }

  /**
   * The reconciler found this waiting run's execution (`from`) ended: the run moves to a new execution, whose name
   * is recorded before it starts, so the end of that one is recognised too. Returns the name to start; undefined when
   * the job is not waiting on `from` any more. Repeating it returns the same name, so the start is idempotent.
   */
  handOver(input: JobRun & { from: string }): Promise<string | undefined> {
    return this.mutate(input.jobId, notFound(input.jobId), async (job) => {
      if (job.run !== input.run || (job.status !== QUEUED && job.status !== RETRY_SCHEDULED)) return undefined;
      const current = job.execution ?? sagaExecutionName(job.jobId, job.run);
      if (current !== input.from) return current === sagaExecutionName(job.jobId, job.run) ? undefined : current;
      const resumes = (job.resumes ?? 0) + 1;
      const { next } = this.next(input, job, { execution: resumedExecutionName(job.jobId, job.run, resumes), resumes });
      await this.deps.store.commitBookkeeping({ job: next, expected: { status: job.status, version: job.version } });
      return next.execution;
    });
  }

  private payload(attempt: Pick<JobRecord, 'jobId' | 'run' | 'attempts'>, spec: ClaimSpec): DispatchPayload {
    if (!this.deps.queueUrl) throw new Error('SagaService was built without queueUrl; only the ClaimJob wiring provides it');
    return {
      jobId: attempt.jobId,
      tenantId: spec.facts.tenantId,
      run: attempt.run,
      attempt: attempt.attempts,
      command: spec.command,
      args: spec.args,
      env: spec.env,
      timeoutSeconds: spec.timeoutSeconds,
      workerClass: spec.workerClass,
      priority: spec.priority,
      queueUrl: this.deps.queueUrl(dispatchQueue(spec.workerClass, spec.priority)),
      dispatchTimeoutSeconds: this.dispatchTimeoutSeconds(spec.timeoutSeconds),
      facts: spec.facts,
    };
  }

  private dispatchTimeoutSeconds(timeoutSeconds: number): number {
    return timeoutSeconds + (this.deps.dispatchGraceSeconds ?? DEFAULT_DISPATCH_GRACE_SECONDS);
  }

  private release(job: JobRecord): SlotDelta | undefined {
    return job.slotHeld ? { tenantId: job.tenantId, delta: -1 } : undefined;
  }

  private next(run: JobRun, base: JobRecord, changes: Partial<JobRecord>): { next: JobRecord; context: EventContext } {
    const time = this.deps.clock.now().toISOString();
    const context = { time, correlationId: run.correlationId ?? sagaExecutionName(run.jobId, run.run) };
    return { next: { ...base, ...changes, version: base.version + 1, updatedAt: time }, context };
  }

  private async commit(current: JobRecord, next: JobRecord, event: EventEnvelope, slot?: SlotDelta): Promise<void> {
    await this.commitMarked(transitionChange(current, next, event, slot), (change) => this.deps.store.commit(change));
  }

  /**
   * Commits a change. One whose event frees a slot first says that no run of its tenant is parked, on that condition
   * in the same transaction, so the admission rule lets it pass; when runs are parked, it commits again saying so.
   * The tenant's slot item orders this against every park: no wake-up is skipped that a parked run needed.
   */
  private async commitMarked<C extends JobChange | JobPatchChange>(change: C, write: (change: C) => Promise<void>): Promise<void> {
    if (!freesSlot(change.event)) return write(change);
    const marked = (admitNext: boolean) => ({ ...change.event, data: { ...change.event.data, admitNext } });
    try {
      await write({ ...change, event: marked(false), noneParked: { tenantId: change.event.tenantId } });
    } catch (error) {
      if (!(error instanceof TenantRunsParkedError)) throw error;
      await write({ ...change, event: marked(true) });
    }
  }

  /** Reads, decides and writes; when another writer (an API cancel, a duplicate report) got there first, again. */
  /** A lost race's error carries the job as the winner left it (when the store returned it), so it is not read again. */
  private mutate<T>(jobId: string, missing: () => Error, decide: (job: JobRecord) => Promise<T>, known?: JobRecord): Promise<T> {
    const read = async () => (await this.deps.store.get(jobId)) ?? Promise.reject(missing());
    const isConflict = (error: unknown): error is ConcurrentModificationError => error instanceof ConcurrentModificationError;
    return retryOnConflict(read, decide, isConflict, { ...(known ? { first: known } : {}), fromConflict: (error) => (isConflict(error) ? error.current : undefined) });
  }
}

const notFound = (jobId: string) => () => new JobNotFoundError(jobId);

/** The outcome a decision already recorded on the job, answered again to a retried RecordFailure. */
function recordedOutcome(job: JobRecord): FailureOutcome {
  return job.status === RETRY_SCHEDULED ? { action: 'retry', status: RETRY_SCHEDULED, waitSeconds: job.retryDelaySeconds ?? 0 } : { action: 'end', status: job.status };
}

/** A cancel explains whatever the attempt ended with (often the stop it caused): say both. */
function cancelledFailure(failure: JobFailure): JobFailure {
  if (failure.reason === 'CANCELLED') return failure;
  return describeFailure('CANCELLED', `The job was cancelled on request; the attempt ended with ${failure.reason}: ${failure.message}`);
}
