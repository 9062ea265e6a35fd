import type { Logger } from '@aws-lambda-powertools/logger';
import { SendTaskFailureCommand, SendTaskHeartbeatCommand, SendTaskSuccessCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { ChangeMessageVisibilityCommand, DeleteMessageCommand, SendMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import type { StartVerdict } from '../functions/core/attempt-start.ts';
import type { FailureReason } from '../functions/core/failure-reasons.ts';
import type { Priority } from '../functions/core/priority.ts';
import { DispatchMessageSchema, MAX_CAUSE_OUTPUT_TAIL, serializeCause, TaskFailureCauseSchema, TaskSuccessSchema, WorkerReportSchema, type DispatchMessage, type WorkerReport } from '../functions/core/saga-messages.ts';
import { categorizeOutcome } from './categorize.ts';
import type { JobLogWriter } from '../functions/core/job-logs.ts';
import type { JobUser } from './job-user.ts';
import { startLiveness, type Liveness } from './liveness.ts';
import { LogShipper } from './log-shipper.ts';
import { runJobProcess, type JobProcessOutcome } from './process-runner.ts';
import { errorMessage, errorName, isTaskOver, withRetries, type RetryOptions } from './retry.ts';

/**
 * One dispatch message held by the agent, from receipt to its end: validate, check the task is still open, report
 * `started`, run the command while keeping the message alive, answer the task, delete the message.
 *
 * How a held message can end, and what happens to it:
 *  - succeeded / failed: the task was answered (SendTaskSuccess / SendTaskFailure) and the message deleted;
 *  - task-over: Step Functions says the task is no longer ours (timed out, cancelled, answered by another agent):
 *    the job is stopped if it runs, nothing is reported, the message is deleted (it has nothing left to do);
 *  - released: the agent is shutting down and the job did not finish: visibility 0, another agent takes it at once;
 *  - unreported: the answer failed for another reason even after retries: the message is left to reappear (the
 *    saga's TimeoutSeconds bounds how long that can go on), so some agent answers it later;
 *  - duplicate: another copy of a dispatch this agent already holds: the message is deleted, nothing runs or is
 *    reported (the held copy answers the task);
 *  - malformed: the body is not a dispatch message: left alone, so it reaches the DLQ after maxReceiveCount and an
 *    operator sees it there. Deleting it would lose the token, and the saga would wait for its timeout anyway.
 */
export type JobEnd = 'succeeded' | 'failed' | 'task-over' | 'released' | 'unreported' | 'duplicate' | 'malformed';

export type AgentLogger = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

/** The platform's answer to "may I start this attempt?" (decideStart); a thrown error when it gave none. */
export type StartGate = (report: WorkerReport) => Promise<StartVerdict>;

/** What the agent tells an observer (tests, metrics); never logged verbatim because it carries the task token. */
export type AgentEvent =
  | { type: 'received'; queue: Priority; messageId: string; receiveCount: number }
  | { type: 'started'; queue: Priority; messageId: string; receiveCount: number; job: DispatchMessage }
  | { type: 'finished'; queue: Priority; messageId: string; end: JobEnd; jobId?: string; taskToken?: string; reason?: FailureReason };

export interface JobDeps {
  sqs: SQSClient;
  sfn: SFNClient;
  workerId: string;
  killGraceMs: number;
  /** Who jobs run as; undefined runs them as the agent (local development). */
  jobUser?: JobUser;
  livenessIntervalMs: number;
  visibilityExtensionSeconds: number;
  reportsQueueUrl: string;
  /** Asks the platform before a command starts (worker-control); absent outside a fleet. Throws when unanswered. */
  startGate?: StartGate;
  /** Where each attempt's output goes while it runs (GET …/logs); absent, only the result's tail is kept. */
  logs?: JobLogWriter;
  retry: Omit<RetryOptions, 'onRetry'>;
  /** The task tokens of the dispatches this agent holds now, shared by its jobs: a second copy is not run. */
  heldTokens: Set<string>;
  logger: AgentLogger;
  emit: (event: AgentEvent) => void;
}

export class HeldJob {
  readonly done: Promise<JobEnd>;
  private readonly controller = new AbortController();
  private releasing = false;
  private taskOver = false;
  private readonly receiveCount: number;
  private readonly messageId: string;
  /** Read at receipt (before validation) so the control plane learns which jobs this worker holds. */
  readonly jobId: string | undefined;

  constructor(
    private readonly deps: JobDeps,
    private readonly queue: { priority: Priority; url: string },
    private readonly message: Message,
  ) {
    this.receiveCount = Number(message.Attributes?.ApproximateReceiveCount ?? 1);
    this.messageId = message.MessageId ?? '?';
    this.jobId = jobIdOf(message.Body);
    this.done = this.run().catch((error: unknown) => {
      // Every step handles its own errors; this is the net for a bug, so that one job can never end the agent.
      this.deps.logger.error('job handling failed unexpectedly; the message is left to reappear', { messageId: this.messageId, error: errorMessage(error) });
      return this.end('unreported');
    });
  }

  /** Drain deadline: stop the job (SIGTERM, SIGKILL after the grace) and give the message back instead of answering. */
  release(): void {
    this.releasing = true;
    this.controller.abort();
  }

  private async run(): Promise<JobEnd> {
    const { deps, queue } = this;
    const parsed = parseDispatch(this.message.Body);
    if (!parsed.success) {
      deps.logger.error('malformed dispatch message left for the DLQ', { queue: queue.priority, messageId: this.messageId, receiveCount: this.receiveCount, problem: parsed.problem });
      return this.end('malformed');
    }
    const job = parsed.job;
    const log = { jobId: job.jobId, run: job.run, attempt: job.attempt, queue: queue.priority, messageId: this.messageId, receiveCount: this.receiveCount };
    // Another copy of a dispatch this agent holds (SQS delivers at least once; a send retried after a lost answer
    // puts it on the queue twice): the copy it holds answers the task, this one has nothing to do. A fleet's start
    // gate refuses copies too, across agents; this is what an agent outside a fleet has.
    if (deps.heldTokens.has(job.taskToken)) {
      deps.logger.warn('a second copy of a dispatch this agent holds: deleted, not run', log);
      await this.deleteMessage(log);
      return this.end('duplicate', job);
    }
    deps.heldTokens.add(job.taskToken);
    try {
      return await this.hold(job, log);
    } finally {
      deps.heldTokens.delete(job.taskToken);
    }
  }

  private async hold(job: DispatchMessage, log: Record<string, unknown>): Promise<JobEnd> {
    const { deps, queue } = this;
    const heartbeat = () => deps.sfn.send(new SendTaskHeartbeatCommand({ taskToken: job.taskToken }));

    // From receipt on, not from spawn: the checks below may take a few SDK retries, and the message must not lapse.
    const liveness = startLiveness({
      intervalMs: deps.livenessIntervalMs,
      extendVisibility: () => this.changeVisibility(deps.visibilityExtensionSeconds),
      heartbeat,
      onTaskOver: (error) => {
        deps.logger.warn('task is over (timed out, cancelled or answered elsewhere): stopping the job', { ...log, error: errorName(error) });
        this.taskOver = true;
        this.controller.abort();
      },
      onError: (call, error) => deps.logger.warn(`${call} failed; the next tick retries`, { ...log, error: errorName(error), detail: errorMessage(error) }),
    });

    let outcome: JobProcessOutcome | undefined;
    let startedAt = new Date();
    let verdict: StartVerdict | 'unanswered' | undefined;
    try {
      // A redelivered message may belong to a task that is already over (its saga timed out or was cancelled, or
      // another agent already answered it while its record is on the way): a heartbeat before running tells. If the
      // check cannot be made, the command does not start: it could be one that already succeeded.
      await withRetries(heartbeat, deps.retry).catch((error: unknown) => {
        if (isTaskOver(error)) this.taskOver = true;
        else {
          deps.logger.warn('could not check the task; the job is not started and its message reappears', { ...log, error: errorName(error) });
          verdict = 'unanswered';
        }
      });
      if (!this.taskOver && verdict === undefined && !this.controller.signal.aborted) {
        startedAt = new Date();
        verdict = await this.reportStarted(job, startedAt, log);
      }
      if (verdict === 'proceed' && !this.taskOver && !this.controller.signal.aborted) {
        deps.emit({ type: 'started', queue: queue.priority, messageId: this.messageId, receiveCount: this.receiveCount, job });
        deps.logger.info('job started', log);
        const ref = { jobId: job.jobId, run: job.run, attempt: job.attempt };
        const shipper = deps.logs && new LogShipper({ writer: deps.logs, ref, warn: (message, details) => deps.logger.warn(message, { ...log, ...details }) });
        outcome = await runJobProcess({
          command: job.command,
          args: job.args,
          env: job.env,
          timeoutSeconds: job.timeoutSeconds,
          killGraceMs: deps.killGraceMs,
          signal: this.controller.signal,
          // Only what will be reported is kept (N bytes decode to at most N characters, so the tail fits the cause
          // as is): bounded memory per job, whatever the job prints.
          outputTailBytes: MAX_CAUSE_OUTPUT_TAIL,
          user: deps.jobUser,
          onCleanupError: (error, dir) => deps.logger.warn('could not remove the job working directory', { ...log, dir, error: errorMessage(error) }),
          ...(shipper ? { onOutput: (chunk: Buffer, stream: 'stdout' | 'stderr') => shipper.write(chunk, stream) } : {}),
        });
        // Before the answer: a follower told that the job ended has had its last output (bounded by close's timeout).
        await shipper?.close();
      }
    } catch (error) {
      await liveness.stop();
      throw error;
    }

    // Liveness goes on while the agent answers: a message whose visibility lapsed while a finished command's answer
    // was still on its way (a slow or retried SendTaskSuccess) would reach another agent, whose start would be
    // accepted (the job is still RUNNING) and which would run the command again. Every other way out stops it first:
    // a release to visibility 0 must not be followed by a late extension.
    if (verdict !== undefined && verdict !== 'proceed') {
      await liveness.stop();
      return this.notStarted(job, verdict, startedAt, log);
    }
    if (this.taskOver) {
      await liveness.stop();
      await this.deleteMessage(log);
      return this.end('task-over', job);
    }
    // `cancelled` is only set when our abort stopped a running job; a job that had already exited keeps its result.
    if (!outcome || (this.releasing && outcome.cancelled)) {
      await liveness.stop();
      await this.changeVisibility(0).catch((error: unknown) => deps.logger.warn('release failed; the message reappears when its visibility lapses', { ...log, error: errorName(error) }));
      deps.logger.info('job released for another agent', log);
      return this.end('released', job);
    }
    return this.answer(job, outcome, startedAt, log, liveness);
  }

  private async answer(job: DispatchMessage, outcome: JobProcessOutcome, startedAt: Date, log: Record<string, unknown>, liveness: Liveness): Promise<JobEnd> {
    const { deps } = this;
    const verdict = categorizeOutcome(outcome);
    const common = { durationMs: outcome.durationMs, outputTail: outcome.outputTail, workerId: deps.workerId, startedAt: startedAt.toISOString() };
    // Handed back untouched: with them the platform records the success without reading the job.
    const dispatched = { attempt: job.attempt, ...(job.facts ? { facts: job.facts } : {}) };
    // Schemas are checked here, before sending: a contract break shows up in this agent's log, not in the saga.
    const send: () => Promise<unknown> = verdict.succeeded
      ? () => {
          const output = TaskSuccessSchema.parse({ ...common, ...dispatched, exitCode: outcome.exitCode ?? 0, finishedAt: new Date().toISOString() });
          return deps.sfn.send(new SendTaskSuccessCommand({ taskToken: job.taskToken, output: JSON.stringify(output) }));
        }
      : () => {
          const { failure } = verdict;
          const cause = TaskFailureCauseSchema.parse({ ...common, message: failure.message, exitCode: outcome.exitCode, signal: outcome.signal, retryable: failure.retryable });
          return deps.sfn.send(new SendTaskFailureCommand({ taskToken: job.taskToken, error: failure.reason, cause: serializeCause(cause) }));
        };
    const reason = verdict.succeeded ? undefined : verdict.failure.reason;
    try {
      await withRetries(send, {
        ...deps.retry,
        onRetry: (error, attempt, delayMs) => deps.logger.warn('answering the task failed; retrying', { ...log, attempt, delayMs, error: errorName(error) }),
      }).finally(() => liveness.stop());
    } catch (error) {
      if (isTaskOver(error)) {
        // Someone else answered, or the saga stopped waiting: our result is moot, the message is done.
        deps.logger.warn('task was over before our answer arrived', { ...log, error: errorName(error) });
        await this.deleteMessage(log);
        return this.end('task-over', job, reason);
      }
      deps.logger.error('could not answer the task; the message will reappear', { ...log, error: errorName(error), detail: errorMessage(error) });
      return this.end('unreported', job, reason);
    }
    await this.deleteMessage(log);
    deps.logger.info(verdict.succeeded ? 'job succeeded' : 'job failed', { ...log, reason, exitCode: outcome.exitCode, durationMs: outcome.durationMs });
    return this.end(verdict.succeeded ? 'succeeded' : 'failed', job, reason);
  }

  /**
   * With a start gate (a fleet worker): asks the platform, and waits, before the command starts; only 'proceed' runs
   * it. Without one (an agent outside a fleet): reports to the queue and runs, as a cancel cannot be checked then.
   */
  private async reportStarted(job: DispatchMessage, startedAt: Date, log: Record<string, unknown>): Promise<StartVerdict | 'unanswered'> {
    const report = WorkerReportSchema.parse({
      type: 'started', jobId: job.jobId, run: job.run, attempt: job.attempt, workerId: this.deps.workerId, startedAt: startedAt.toISOString(), taskToken: job.taskToken,
      // Handed back untouched: with them the platform records RUNNING without reading the job.
      ...(job.facts ? { facts: job.facts } : {}),
      // Which copy of the dispatch this is: another copy of it never starts the attempt a second time.
      ...(this.message.MessageId ? { messageId: this.message.MessageId } : {}),
    });
    const gate = this.deps.startGate;
    if (gate) {
      try {
        return await withRetries(() => gate(report), { ...this.deps.retry, onRetry: (error, attempt) => this.deps.logger.warn('asking to start failed; retrying', { ...log, attempt, error: errorMessage(error) }) });
      } catch (error) {
        this.deps.logger.warn('the platform did not answer the start; the job is not started', { ...log, error: errorMessage(error) });
        return 'unanswered';
      }
    }
    try {
      await withRetries(() => this.deps.sqs.send(new SendMessageCommand({ QueueUrl: this.deps.reportsQueueUrl, MessageBody: JSON.stringify(report) })), this.deps.retry);
    } catch (error) {
      // RUNNING is informational here; holding the job back for it would turn a reports outage into a job outage.
      this.deps.logger.warn('could not send the started report; running the job anyway', { ...log, error: errorName(error) });
    }
    return 'proceed';
  }

  /**
   * The command did not start. Cancelled: the task is failed with CANCELLED, so the saga records the cancel at once.
   * Over: the message has nothing left to do. Unanswered: left to reappear, when the platform may answer.
   */
  private async notStarted(job: DispatchMessage, verdict: Exclude<StartVerdict, 'proceed'> | 'unanswered', startedAt: Date, log: Record<string, unknown>): Promise<JobEnd> {
    this.deps.logger.info('job not started', { ...log, verdict });
    if (verdict === 'unanswered') return this.end('unreported', job);
    if (verdict === 'over') {
      await this.deleteMessage(log);
      return this.end('task-over', job);
    }
    const cause = TaskFailureCauseSchema.parse({ message: 'The job was cancelled before it started; the command never ran.', workerId: this.deps.workerId, startedAt: startedAt.toISOString(), retryable: false });
    try {
      await withRetries(() => this.deps.sfn.send(new SendTaskFailureCommand({ taskToken: job.taskToken, error: 'CANCELLED', cause: serializeCause(cause) })), this.deps.retry);
    } catch (error) {
      // Task over: the platform (job control) failed it first. Otherwise the message reappears and is refused again.
      if (!isTaskOver(error)) return this.end('unreported', job, 'CANCELLED');
    }
    await this.deleteMessage(log);
    return this.end('failed', job, 'CANCELLED');
  }

  private changeVisibility(seconds: number) {
    return this.deps.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: this.queue.url, ReceiptHandle: this.message.ReceiptHandle, VisibilityTimeout: seconds }));
  }

  private async deleteMessage(log: Record<string, unknown>): Promise<void> {
    try {
      await withRetries(() => this.deps.sqs.send(new DeleteMessageCommand({ QueueUrl: this.queue.url, ReceiptHandle: this.message.ReceiptHandle })), this.deps.retry);
    } catch (error) {
      // Harmless beyond a wasted receive: whoever gets it next finds the task over at its first heartbeat.
      this.deps.logger.warn('could not delete the message; it will reappear and be discarded', { ...log, error: errorName(error) });
    }
  }

  private end(end: JobEnd, job?: DispatchMessage, reason?: FailureReason): JobEnd {
    this.deps.emit({ type: 'finished', queue: this.queue.priority, messageId: this.messageId, end, jobId: job?.jobId, taskToken: job?.taskToken, ...(reason ? { reason } : {}) });
    return end;
  }
}

function parseDispatch(body: string | undefined): { success: true; job: DispatchMessage } | { success: false; problem: string } {
  let json: unknown;
  try {
    json = JSON.parse(body ?? '');
  } catch {
    return { success: false, problem: 'body is not JSON' };
  }
  const result = DispatchMessageSchema.safeParse(json);
  if (result.success) return { success: true, job: result.data };
  return { success: false, problem: result.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ') };
}

/** The job id of a dispatch body, if it has one; validation proper happens in run(). */
function jobIdOf(body: string | undefined): string | undefined {
  try {
    const { jobId } = JSON.parse(body ?? '') as { jobId?: unknown };
    return typeof jobId === 'string' ? jobId.slice(0, 64) : undefined;
  } catch {
    return undefined;
  }
}
