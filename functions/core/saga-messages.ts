import { z } from 'zod';
import { FAILURE_REASON_NAMES } from './failure-reasons.ts';
import { PrioritySchema } from './job.ts';

/**
 * The contracts between the saga, the worker agent and the step handlers, declared once with schemas: every
 * message crossing a queue or Step Functions boundary is validated on arrival.
 */

/** What the Dispatch state sends to the dispatch queue (with the task token the agent must answer). */
export const DispatchMessageSchema = z.object({
  taskToken: z.string().min(1),
  jobId: z.string(),
  tenantId: z.string(),
  run: z.number().int().positive(),
  attempt: z.number().int().positive(),
  command: z.string(),
  args: z.array(z.string()),
  env: z.record(z.string(), z.string()),
  timeoutSeconds: z.number().int().positive(),
  workerClass: z.string(),
  priority: PrioritySchema,
});
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

/** Step Functions limits `cause` to 32,768 characters; the tail we put in it stays well below. */
export const MAX_CAUSE_OUTPUT_TAIL = 8192;
