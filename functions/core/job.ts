import * as z from 'zod';
import { JOB_STATUSES, type JobStatus } from './job-status.ts';
import { PRIORITIES, DEFAULT_PRIORITY, type Priority } from './priority.ts';
import { MAX_ATTEMPTS, MIN_ATTEMPTS, DEFAULT_RETRY_POLICY } from './retry-policy.ts';
import { FAILURE_REASON_NAMES, type JobFailure } from './failure-reasons.ts';
import { CallbackUrlSchema } from '../webhooks/url-policy.ts';
import { argsMisuse } from './job-command.ts';

export const LIMITS = {
  commandMaxLength: 8192,
  argsMax: 256,
  argMaxLength: 8192,
  envMax: 100,
  envValueMaxLength: 8192,
  metadataMax: 20,
  metadataKeyMaxLength: 128,
  metadataValueMaxLength: 1024,
  timeoutSecondsMax: 86_400,
  defaultTimeoutSeconds: 3600,
  workerClassPattern: /^[a-z0-9][a-z0-9-]{0,31}$/,
  /**
   * What of a job travels in its saga's state and its dispatch message (command, args, env), as JSON bytes. The
   * state may hold this, a failure cause (32,768 characters, escaped once more in the state) and a result tail:
   * 64 KiB keeps the worst case well under Step Functions' 256 KB state limit, which cannot be caught.
   */
  dispatchPayloadBytes: 64 * 1024,
  /**
   * Jobs per batch submit: each takes two items (job, event) of the one transaction that commits the batch, plus one
   * counter update, well under DynamoDB's 100 items; and 25 job starts stay quick within one request.
   */
  batchJobsMax: 25,
} as const;

/** The bytes a spec adds to its saga's state and dispatch message. */
export function dispatchPayloadBytes(spec: Pick<JobSpec, 'command' | 'args' | 'env'>): number {
  return Buffer.byteLength(JSON.stringify({ command: spec.command, args: spec.args, env: spec.env }));
}

const maxEntries = (max: number) => (value: Record<string, string>) => Object.keys(value).length <= max;

/**
 * A shell snippet (a string, run by /bin/sh -c) or a program and its arguments (an array, run with no shell): the
 * forms and what args mean with each are in job-command.ts. An array holds at most what a snippet and its args may.
 */
export const JobCommandSchema = z.union(
  [
    z.string().min(1).max(LIMITS.commandMaxLength),
    z
      .array(z.string().max(LIMITS.argMaxLength))
      .min(1)
      .max(LIMITS.argsMax + 1)
      .refine((argv) => argv[0] !== '', { message: 'the first entry of a command array is the program to run: it must not be empty', path: [0] }),
  ],
  { error: 'command is a shell snippet (a non-empty string) or a program and its arguments (a non-empty array of strings)' },
);

/** What a client may submit. Strict: unknown fields are an error, not silently dropped. */
// The `.meta` descriptions are the API's documentation of each field (docs/openapi.json); they sit before `.default`
// so that the job resource, which has every default applied (JobResourceSchema), keeps them.
export const JobSpecSchema = z.strictObject({
  command: JobCommandSchema.meta({
    description: 'A shell snippet (a string, run as `/bin/sh -c command` with `args` as its `$1`…) or a program and its arguments (an array, run with no shell)',
  }),
  args: z
    .array(z.string().max(LIMITS.argMaxLength))
    .max(LIMITS.argsMax)
    .meta({ description: "The positional parameters of a shell snippet's `$1`…; not with a command array" })
    .default([]),
  env: z
    .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,255}$/, 'environment variable names are letters, digits and _'), z.string().max(LIMITS.envValueMaxLength))
    .refine(maxEntries(LIMITS.envMax), `at most ${LIMITS.envMax} environment variables`)
    .meta({ description: `The job's environment: at most ${LIMITS.envMax} variables, named with letters, digits and _ (not starting with a digit)` })
    .default({}),
  priority: z.enum(PRIORITIES).meta({ description: 'Workers take critical, high, medium and low work with weights 8:4:2:1: low never starves' }).default(DEFAULT_PRIORITY),
  timeoutSeconds: z
    .number()
    .int()
    .min(1)
    .max(LIMITS.timeoutSecondsMax)
    .meta({ description: 'How long an attempt may run before it is stopped (EXECUTION_TIMEOUT)' })
    .default(LIMITS.defaultTimeoutSeconds),
  maxAttempts: z
    .number()
    .int()
    .min(MIN_ATTEMPTS)
    .max(MAX_ATTEMPTS)
    .meta({ description: 'Attempts of a run: a retryable failure is retried with backoff until then, and the job ends DEAD_LETTERED' })
    .default(DEFAULT_RETRY_POLICY.maxAttempts),
  workerClass: z
    .string()
    .regex(LIMITS.workerClassPattern, 'workerClass is 1-32 lowercase letters, digits or -')
    .meta({ description: 'The class of workers that run it' })
    .default('default'),
  metadata: z
    .record(z.string().min(1).max(LIMITS.metadataKeyMaxLength), z.string().max(LIMITS.metadataValueMaxLength))
    .refine(maxEntries(LIMITS.metadataMax), `at most ${LIMITS.metadataMax} metadata entries`)
    .meta({ description: `Your own labels, kept and returned as given: at most ${LIMITS.metadataMax} pairs` })
    .default({}),
  /** Every state change of the job is POSTed here, signed (see README, "Webhooks"). */
  callbackUrl: CallbackUrlSchema.optional().meta({
    description: 'Every state change of the job is POSTed here, signed (X-Forgeflow-Signature); https to a public address in AWS',
  }),
})
  .superRefine(({ command, args }, ctx) => {
    const misuse = argsMisuse(command, args);
    if (misuse) ctx.addIssue({ code: 'custom', path: ['args'], message: misuse });
  })
  .meta({ id: 'JobSpec', description: 'What a client may submit; unknown fields are refused' });
export type JobSpecInput = z.input<typeof JobSpecSchema>;
export type JobSpec = z.output<typeof JobSpecSchema>;

export const JobResultSchema = z
  .object({
    exitCode: z.number().int().nullable(),
    durationMs: z.number().int().nonnegative(),
    outputTail: z.string(),
  })
  .meta({ id: 'JobResult', description: 'How an attempt ended: exit code (null when a signal stopped it), duration and the tail of its output' });
export type JobResult = z.infer<typeof JobResultSchema>;

export const JobFailureSchema = z
  .object({
    reason: z.enum(FAILURE_REASON_NAMES),
    message: z.string(),
    category: z.enum(['user', 'infrastructure']),
    retryable: z.boolean(),
    suggestedActions: z.array(z.string()),
  })
  .meta({ id: 'JobFailure', description: 'Why a job failed: a reason from the catalog, whose problem it is, whether a retry can help' });

/** A job as the platform stores and returns it. */
export interface Job extends JobSpec {
  jobId: string;
  tenantId: string;
  status: JobStatus;
  /** Optimistic-concurrency version, bumped by every write. */
  version: number;
  /** Run number: 1 on submit, +1 on every explicit retry. One saga execution per run. */
  run: number;
  /** Attempts started in the current run. */
  attempts: number;
  cancelRequested: boolean;
  /** When the cancel of a job a worker held was accepted: a command that finished later ends CANCELLED. */
  cancelRequestedAt?: string;
  createdAt: string;
  updatedAt: string;
  createdBy: string;
  startedAt?: string;
  finishedAt?: string;
  workerId?: string;
  result?: JobResult;
  failure?: JobFailure;
}

/** The stored job plus what only the platform needs to see. */
export interface JobRecord extends Job {
  /** SHA-256 of the normalized submit request, to tell an idempotent replay from a reused key. */
  requestHash: string;
  /**
   * Task token of the current attempt's dispatch, recorded when the agent reports the start, so that a cancel can
   * fail the waiting task. A bearer credential for the task: it never leaves the platform.
   */
  taskToken?: string;
  /**
   * The SQS message id of the dispatch copy the current attempt started from. A copy of the same dispatch (a send
   * retried after a lost answer, or SQS delivering twice) has another id and never starts the attempt again; the
   * message that reappears after its agent died has this one, and may take the attempt over.
   */
  dispatchMessageId?: string;
  /** Whether the job holds one of its tenant's concurrency slots (claim reserves one; release or the end frees it). */
  slotHeld?: boolean;
  /** Set by the saga's StopWorkerProcess compensation: the current attempt's process must be stopped. */
  stopRequested?: boolean;
  /** The failure decision last recorded (Categorize's id for one visit of the failure path), and its backoff. */
  lastDecisionId?: string;
  retryDelaySeconds?: number;
  /** The saga execution the job's current run is in: recorded at each claim and when the reconciler resumes a run. */
  execution?: string;
  /** How many times the reconciler resumed this run in a new execution (names the next one). */
  resumes?: number;
  /**
   * While a worker holds the job, or while a queued run waits for its saga's first step: when the saga should long
   * have moved on (the reconciler's sweep looks after that).
   */
  overdueAt?: string;
}

/**
 * How long a queued run may wait for its saga to claim or park it before the reconciler's sweep makes sure the saga
 * was started. The API starts it at once and hands a failed start to the saga starter's queue; this is for a start
 * lost with both (an API function that died between its commit and the start).
 */
export const QUEUED_OVERDUE_SECONDS = 5 * 60;

/** The overdue time of a run queued at `time` (an ISO instant). */
export const queuedOverdueAt = (time: string) => new Date(Date.parse(time) + QUEUED_OVERDUE_SECONDS * 1000).toISOString();

export const JobStatusSchema = z.enum(JOB_STATUSES);
export const PrioritySchema = z.enum(PRIORITIES);
export type { JobStatus, Priority };

/** A spec field as a stored job holds it: its default applied, so always present. */
type Defaulted<S> = { [K in keyof S]: S[K] extends z.ZodDefault<infer T> ? T : S[K] };
const defaulted = <S extends z.ZodRawShape>(shape: S): Defaulted<S> =>
  Object.fromEntries(Object.entries(shape).map(([key, field]) => [key, field instanceof z.ZodDefault ? field.unwrap() : field])) as Defaulted<S>;

const timestamp = (description: string) => z.iso.datetime().meta({ description });

/**
 * The public view of a job (toJobResource), as the API returns it: the submitted spec with its defaults applied,
 * plus what the platform recorded. Built from JobSpecSchema, so a change to what may be submitted shows here too.
 */
export const JobResourceSchema = z
  .object({
    jobId: z.string().meta({ description: 'Derived from the tenant and the Idempotency-Key (random without one)', example: 'job_0f8fad5bd9cb469fa16570867728950e' }),
    tenantId: z.string(),
    status: JobStatusSchema,
    ...defaulted(JobSpecSchema.shape),
    version: z.number().int().positive().meta({ description: 'Bumped by every change of the job' }),
    run: z.number().int().positive().meta({ description: '1 on submit, +1 with every retry (POST /v1/jobs/{id}/retry)' }),
    attempts: z.number().int().nonnegative().meta({ description: 'Attempts started in the current run' }),
    cancelRequested: z.boolean(),
    cancelRequestedAt: timestamp('When the cancel of a job a worker held was accepted').optional(),
    createdAt: timestamp('When it was submitted'),
    updatedAt: timestamp('When it last changed'),
    createdBy: z.string().meta({ description: "The submitter's `sub`" }),
    startedAt: timestamp('When its current attempt started running').optional(),
    finishedAt: timestamp('When it ended').optional(),
    workerId: z.string().optional().meta({ description: 'The worker that ran its last attempt' }),
    result: JobResultSchema.optional(),
    failure: JobFailureSchema.optional(),
  })
  .meta({ id: 'Job' });
export type JobResource = z.output<typeof JobResourceSchema>;

/**
 * What a job list shows of each job; GET of one job shows everything. The list indexes project only these fields,
 * so a list never reads (or pays for) commands, arguments, environments, metadata and output tails.
 */
export const JOB_SUMMARY_FIELDS = [
  'tenantId',
  'status',
  'priority',
  'workerClass',
  'timeoutSeconds',
  'maxAttempts',
  'attempts',
  'run',
  'cancelRequested',
  'createdAt',
  'updatedAt',
  'createdBy',
  'startedAt',
  'finishedAt',
  'workerId',
  'failure',
] as const satisfies readonly (keyof Job)[];
export type JobSummary = Pick<Job, 'jobId' | (typeof JOB_SUMMARY_FIELDS)[number]>;

/** A job as a list shows it (toJobSummary). */
export const JobSummarySchema = JobResourceSchema.pick(
  Object.fromEntries(['jobId', ...JOB_SUMMARY_FIELDS].map((field) => [field, true])) as Record<'jobId' | (typeof JOB_SUMMARY_FIELDS)[number], true>,
).meta({ id: 'JobSummary' });

export function toJobSummary(job: JobSummary): z.output<typeof JobSummarySchema> {
  const summary: Record<string, unknown> = { jobId: job.jobId };
  for (const field of JOB_SUMMARY_FIELDS) if (job[field] !== undefined) summary[field] = job[field];
  return summary as JobSummary;
}

/** The public view of a job: internals such as the request hash, the task token and the slot flags stay inside. */
export function toJobResource(job: JobRecord): JobResource {
  const { requestHash: _hash, taskToken: _token, dispatchMessageId: _message, slotHeld: _slot, stopRequested: _stop, lastDecisionId: _d, retryDelaySeconds: _w, execution: _x, resumes: _n, overdueAt: _o, ...resource } = job;
  return resource;
}

// Compile-time: JobResourceSchema names exactly the fields of Job, so the API's description cannot miss one.
const _resourceHasJobFields: [keyof Job] extends [keyof JobResource] ? ([keyof JobResource] extends [keyof Job] ? true : never) : never = true;
