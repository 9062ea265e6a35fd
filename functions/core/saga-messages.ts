import * as z from 'zod';
import { FAILURE_REASON_NAMES } from './failure-reasons.ts';
import { JobCommandSchema, PrioritySchema } from './job.ts';
import { isArgvCommand } from './job-command.ts';

/**
 * The contracts between the saga, the worker agent and the step handlers, declared once with schemas: every
 * message crossing a queue or Step Functions boundary is validated on arrival.
 */

/**
 * What names a job in its events, carried through the saga (the claim's payload, the dispatch message, the worker's
 * report) so that RUNNING and SUCCEEDED are written without reading the job first. Optional where it arrives from
 * outside, so messages sent before it existed still count: their job is read instead.
 */
export const JobFactsSchema = z.object({
  tenantId: z.string().min(1),
  priority: PrioritySchema,
  workerClass: z.string().min(1),
  createdAt: z.string().min(1),
  callbackUrl: z.string().optional(),
});
export type JobFacts = z.infer<typeof JobFactsSchema>;

/** What a claim dispatches of a job (core/saga.ts ClaimSpec): the API hands it to the execution it starts. */
export const ClaimSpecSchema = z.object({
  command: JobCommandSchema,
  args: z.array(z.string()),
  env: z.record(z.string(), z.string()),
  timeoutSeconds: z.number().int().positive(),
  workerClass: z.string(),
  priority: PrioritySchema,
  facts: JobFactsSchema,
});

/**
 * What ClaimJob sends to the dispatch queue (with the task token the agent must answer). `command` has
 * either form; a submit refuses args with a command array, so a message that has both was not made by the platform.
 * A snippet with args it never reads is accepted: jobs stored before the array form existed still run.
 */
export const DispatchMessageSchema = ClaimSpecSchema.extend({
  taskToken: z.string().min(1),
  jobId: z.string(),
  tenantId: z.string(),
  run: z.number().int().positive(),
  attempt: z.number().int().positive(),
  facts: JobFactsSchema.optional(),
}).refine((message) => !isArgvCommand(message.command) || message.args.length === 0, { path: ['args'], message: 'a command array takes no args' });
export type DispatchMessage = z.infer<typeof DispatchMessageSchema>;

/** What an agent reports when it starts a job; a consumer records RUNNING. */
export const WorkerReportSchema = z.object({
  type: z.literal('started'),
  jobId: z.string(),
  run: z.number().int().positive(),
  attempt: z.number().int().positive(),
  workerId: z.string().min(1),
  startedAt: z.iso.datetime(),
  taskToken: z.string().min(1),
  /** The dispatch message's facts, handed back so RUNNING is recorded without reading the job. */
  facts: JobFactsSchema.optional(),
  /** The SQS message id of the dispatch copy (JobRecord.dispatchMessageId); absent from agents before 0.3.0. */
  messageId: z.string().min(1).max(128).optional(),
});
export type WorkerReport = z.infer<typeof WorkerReportSchema>;

/** Output of SendTaskSuccess. */
export const TaskSuccessSchema = z.object({
  exitCode: z.number().int(),
  durationMs: z.number().int().nonnegative(),
  outputTail: z.string(),
  workerId: z.string(),
  startedAt: z.iso.datetime(),
  finishedAt: z.iso.datetime(),
  /**
   * The dispatch message's attempt and facts, handed back so RecordSuccess records without reading the job: the
   * execution's state has no claim result to take them from, as ClaimJob's result is this answer. An agent older
   * than that leaves them out, and the job is read instead.
   */
  attempt: z.number().int().positive().optional(),
  facts: JobFactsSchema.optional(),
});
export type TaskSuccess = z.infer<typeof TaskSuccessSchema>;

/** SendTaskFailure: `error` is a failure reason from the catalog, `cause` this object as JSON. */
export const TaskFailureCauseSchema = z.object({
  message: z.string(),
  exitCode: z.number().int().nullable().optional(),
  signal: z.string().nullable().optional(),
  durationMs: z.number().int().nonnegative().optional(),
  outputTail: z.string().optional(),
  workerId: z.string().optional(),
  startedAt: z.iso.datetime().optional(),
  retryable: z.boolean().optional(),
});
export type TaskFailureCause = z.infer<typeof TaskFailureCauseSchema>;
export const TaskErrorSchema = z.enum(FAILURE_REASON_NAMES);

/** The bytes of output an agent keeps for the result (the tail). */
export const MAX_CAUSE_OUTPUT_TAIL = 8192;

/**
 * What SendTaskFailure accepts: `error` up to 256 characters, `cause` up to 32,768 (AWS Step Functions API
 * reference, SendTaskFailure). AWS refuses a longer one, and a refused answer means the message reappears and the
 * command runs again elsewhere, so the cause is fitted before it is sent.
 */
export const TASK_FAILURE_LIMITS = { errorChars: 256, causeChars: 32_768 } as const;

/**
 * The cause as JSON, within TASK_FAILURE_LIMITS.causeChars. What is budgeted is the serialized text, not the tail's
 * bytes: JSON escapes a control character into six characters, so 8 KB of them take about 49 KB. When it does not
 * fit, the tail keeps its end (where a failure usually shows) and the message is shortened last.
 */
export function serializeCause(cause: TaskFailureCause, limit: number = TASK_FAILURE_LIMITS.causeChars): string {
  const full = JSON.stringify(cause);
  if (full.length <= limit) return full;
  const tail = cause.outputTail ?? '';
  const fits = (keep: number) => JSON.stringify({ ...cause, outputTail: tailOf(tail, keep) }).length <= limit;
  let low = 0;
  let high = tail.length;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (fits(mid)) low = mid;
    else high = mid - 1;
  }
  const fitted = { ...cause, outputTail: tailOf(tail, low) };
  if (JSON.stringify(fitted).length <= limit) return JSON.stringify(fitted);
  // Only a huge message is left to blame: keep its start, which names the failure.
  const overflow = JSON.stringify(fitted).length - limit;
  return JSON.stringify({ ...fitted, message: fitted.message.slice(0, Math.max(0, fitted.message.length - overflow - 1)) });
}

/** The last `keep` characters, never starting inside a surrogate pair. */
function tailOf(text: string, keep: number): string {
  let start = text.length - keep;
  if (start > 0 && start < text.length && /[\uDC00-\uDFFF]/.test(text[start]!)) start += 1;
  return text.slice(Math.max(0, start));
}
