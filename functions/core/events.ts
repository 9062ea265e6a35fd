import { z } from 'zod';
import { JobFailureSchema, JobResultSchema, JobStatusSchema, PrioritySchema, type Job } from './job.ts';
import { newEventId } from './ids.ts';

export const EVENT_SOURCE = 'forgeflow.jobs';
export const EVENT_VERSION = 1;

/** Fields every job event carries, so a consumer can act without reading the job back. */
const JobEventBase = z.object({
  jobId: z.string(),
  run: z.number().int().positive(),
  attempts: z.number().int().nonnegative(),
  status: JobStatusSchema,
  previousStatus: JobStatusSchema.nullable(),
  priority: PrioritySchema,
  workerClass: z.string(),
  /** Present when the job asked for webhooks; the webhooks rule matches on it. */
  callbackUrl: z.string().optional(),
});

/** The catalog of event types: name → schema of `data`. Declared once; producers and consumers both use it. */
export const EVENT_SCHEMAS = {
  JobQueued: JobEventBase.extend({
    reason: z.enum(['submitted', 'retried']),
    timeoutSeconds: z.number().int().positive(),
    maxAttempts: z.number().int().positive(),
  }),
  JobDispatched: JobEventBase,
  JobRunning: JobEventBase.extend({ workerId: z.string() }),
  JobSucceeded: JobEventBase.extend({ result: JobResultSchema }),
  JobRetryScheduled: JobEventBase.extend({ failure: JobFailureSchema, delaySeconds: z.number().int().nonnegative() }),
  JobFailed: JobEventBase.extend({ failure: JobFailureSchema, result: JobResultSchema.optional() }),
  JobDeadLettered: JobEventBase.extend({ failure: JobFailureSchema }),
  JobCancelRequested: JobEventBase.extend({ requestedBy: z.string() }),
  JobCancelled: JobEventBase.extend({ cancelledBy: z.string() }),
} as const;

export type EventType = keyof typeof EVENT_SCHEMAS;
export const EVENT_TYPES = Object.keys(EVENT_SCHEMAS) as [EventType, ...EventType[]];
export type EventData<T extends EventType> = z.infer<(typeof EVENT_SCHEMAS)[T]>;

export const EventEnvelopeSchema = z.object({
  id: z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, 'id must be a ULID'),
  type: z.enum(EVENT_TYPES),
  source: z.literal(EVENT_SOURCE),
  subject: z.string().min(1),
  tenantId: z.string().min(1),
  time: z.iso.datetime(),
  correlationId: z.string().min(1),
  causationId: z.string().min(1).nullable(),
  version: z.literal(EVENT_VERSION),
  data: z.record(z.string(), z.unknown()),
});

export interface EventEnvelope<T extends EventType = EventType> {
  id: string;
  type: T;
  source: typeof EVENT_SOURCE;
  subject: string;
  tenantId: string;
  time: string;
  correlationId: string;
  causationId: string | null;
  version: typeof EVENT_VERSION;
  data: EventData<T>;
}

/** Validates an envelope and its `data` against the catalog; throws a ZodError naming the bad field. */
export function parseEvent(input: unknown): EventEnvelope {
  const envelope = EventEnvelopeSchema.parse(input);
  const data = EVENT_SCHEMAS[envelope.type].parse(envelope.data);
  return { ...envelope, data } as EventEnvelope;
}

export interface EventContext {
  time: string;
  correlationId: string;
  causationId?: string | null;
}

/** Creates a job event; `extra` holds the type-specific fields beyond the common job snapshot. */
export function jobEvent<T extends EventType>(
  type: T,
  job: Job,
  previousStatus: Job['status'] | null,
  extra: Omit<EventData<T>, keyof z.infer<typeof JobEventBase>>,
  context: EventContext,
): EventEnvelope<T> {
  const data = EVENT_SCHEMAS[type].parse({
    jobId: job.jobId,
    run: job.run,
    attempts: job.attempts,
    status: job.status,
    previousStatus,
    priority: job.priority,
    workerClass: job.workerClass,
    ...(job.callbackUrl ? { callbackUrl: job.callbackUrl } : {}),
    ...extra,
  }) as EventData<T>;
  return {
    id: newEventId(),
    type,
    source: EVENT_SOURCE,
    subject: job.jobId,
    tenantId: job.tenantId,
    time: context.time,
    correlationId: context.correlationId,
    causationId: context.causationId ?? null,
    version: EVENT_VERSION,
    data,
  };
}
