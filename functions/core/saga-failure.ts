import { describeFailure, FAILURE_REASONS, type FailureReason, type JobFailure } from './failure-reasons.ts';
import { JobStatus } from './job-status.ts';
import type { JobRecord, JobResult } from './job.ts';
import { attemptsExhausted, backoffSeconds, type RetryPolicy } from './retry-policy.ts';
import { TaskFailureCauseSchema } from './saga-messages.ts';

/** What a Step Functions `Catch` puts at its ResultPath. */
export interface StepError {
  Error: string;
  Cause?: string;
}

/** A failure from the catalog, plus what the failed attempt left behind (exit code, output tail) if anything. */
export interface CategorizedFailure {
  failure: JobFailure;
  result?: JobResult;
  /**
   * One id per visit of the failure path (Categorize mints it): a RecordFailure retried after it committed finds
   * its own decision by this id and answers it again, instead of deciding and emitting a second time.
   */
  decisionId?: string;
}

const isCatalogReason = (name: string): name is FailureReason => Object.hasOwn(FAILURE_REASONS, name);

const TIMEOUT_ERRORS = new Set(['States.Timeout', 'States.HeartbeatTimeout']);

/**
 * Turns the error the saga caught into a catalog failure:
 * - the agent reports with SendTaskFailure(error = catalog reason, cause = TaskFailureCause JSON): kept as is, with
 *   the cause's `retryable` overriding the catalog default;
 * - ClaimJob's wait timing out: INFRASTRUCTURE_ERROR (no worker took the dispatch within the grace, or the one that
 *   had it stopped heartbeating; the agent reports a job that outlived its own timeoutSeconds itself, as
 *   EXECUTION_TIMEOUT);
 * - anything else (Lambda errors, States.TaskFailed, NoCapacity after its retries): INFRASTRUCTURE_ERROR.
 * Never throws: whatever arrived, the saga must still compensate and record.
 */
export function categorizeError(error: StepError): CategorizedFailure {
  const cause = parseCause(error.Cause);
  const result = partialResult(cause.details);
  const withResult = (failure: JobFailure): CategorizedFailure => (result ? { failure, result } : { failure });

  if (isCatalogReason(error.Error)) {
    const message = cause.message || FAILURE_REASONS[error.Error].description;
    return withResult(describeFailure(error.Error, message, cause.details?.retryable));
  }
  if (TIMEOUT_ERRORS.has(error.Error)) {
    // Not EXECUTION_TIMEOUT: the job's own timeout is counted by the agent from the moment the command starts, and
    // reported by it. This one fires for a job that waited for a worker longer than allowed, or whose worker stopped
    // answering: the platform's failure, not the user's command.
    return withResult(
      describeFailure('INFRASTRUCTURE_ERROR', 'No worker took the job within the time allowed for waiting in the queue, or its worker stopped answering; the job may never have started.'),
    );
  }
  const detail = cause.message ? `: ${cause.message}` : '';
  return withResult(describeFailure('INFRASTRUCTURE_ERROR', `The platform failed while handling the job (${error.Error})${detail}`));
}

interface ParsedCause {
  message: string;
  details?: ReturnType<typeof TaskFailureCauseSchema.parse>;
}

/** The cause is the agent's TaskFailureCause JSON, a Lambda error JSON (`errorMessage`), or plain text. */
function parseCause(text: string | undefined): ParsedCause {
  if (!text) return { message: '' };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { message: text };
  }
  const agent = TaskFailureCauseSchema.safeParse(json);
  if (agent.success) return { message: agent.data.message, details: agent.data };
  const lambda = json as { errorMessage?: unknown } | null;
  if (lambda && typeof lambda === 'object' && typeof lambda.errorMessage === 'string') return { message: lambda.errorMessage };
  return { message: text };
}

function partialResult(cause: ParsedCause['details']): JobResult | undefined {
  if (!cause || (cause.exitCode === undefined && cause.durationMs === undefined && cause.outputTail === undefined)) return undefined;
  return { exitCode: cause.exitCode ?? null, durationMs: cause.durationMs ?? 0, outputTail: cause.outputTail ?? '' };
}

export type FailureDecision =
  | { status: typeof JobStatus.CANCELLED | typeof JobStatus.FAILED | typeof JobStatus.DEAD_LETTERED }
  | { status: typeof JobStatus.RETRY_SCHEDULED; waitSeconds: number };

/**
 * What a failed attempt leads to, in this order: a requested cancel wins over everything (the failure may be the
 * stop it caused); a failure no retry can fix ends the job; a job out of attempts is dead-lettered; otherwise it
 * is retried after a full-jitter backoff. `policy.maxAttempts` is the job's own.
 */
export function decideAfterFailure(
  job: Pick<JobRecord, 'cancelRequested' | 'attempts'>,
  failure: Pick<JobFailure, 'reason' | 'retryable'>,
  policy: RetryPolicy,
  random: () => number = Math.random,
): FailureDecision {
  if (job.cancelRequested || failure.reason === 'CANCELLED') return { status: JobStatus.CANCELLED };
  if (!failure.retryable) return { status: JobStatus.FAILED };
  if (attemptsExhausted(policy, job.attempts)) return { status: JobStatus.DEAD_LETTERED };
  return { status: JobStatus.RETRY_SCHEDULED, waitSeconds: backoffSeconds(policy, job.attempts, random) };
}
