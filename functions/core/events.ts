import * as z from 'zod';
import { JobFailureSchema, JobResultSchema, JobStatusSchema, PrioritySchema, type Job } from './job.ts';
import { newEventId } from './ids.ts';
import { WorkerFailureSchema } from './fleet/provisioning-failures.ts';
import { WORKER_STATES } from './fleet/worker-state.ts';
import { AgentMetricsSchema, CloudWatchMetricsSchema, Ec2MetricsSchema, THRESHOLD_METRICS } from './fleet/worker-metrics.ts';

export const EVENT_SOURCE = 'forgeflow.jobs';
/** Worker events come from the fleet; they share the bus, the outbox and the history with job events. */
export const WORKER_EVENT_SOURCE = 'forgeflow.workers';
export const EVENT_SOURCES = [EVENT_SOURCE, WORKER_EVENT_SOURCE] as const;
/** The tenant field of platform events (workers belong to no tenant); tenant ids from tokens never start with `_`. */
export const PLATFORM_TENANT = '_platform';
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
  /** When the job was submitted: queue wait and end-to-end latency are measured from it (absent in older events). */
  createdAt: z.iso.datetime().optional(),
  /**
   * On an event that gives a slot back (admission.ts, freesSlot): whether runs of the tenant were parked when it
   * committed. The admission rule passes on only `true`, and events from before the field existed.
   */
  admitNext: z.boolean().optional(),
});

/** Fields every worker event carries. */
const WorkerEventBase = z.object({
  workerId: z.string(),
  class: z.string(),
  state: z.enum(WORKER_STATES),
  previousState: z.enum(WORKER_STATES).nullable(),
  instanceId: z.string().optional(),
});

/** A worker's CPU or memory over its class's threshold: since when, the value that crossed it, the threshold. */
const ThresholdAlert = { metric: z.enum(THRESHOLD_METRICS), value: z.number(), threshold: z.number(), since: z.iso.datetime() };

const WORKER_EVENT_SCHEMAS = {
  WorkerProvisioning: WorkerEventBase.extend({ amiName: z.string(), requestedBy: z.string() }),
  WorkerLaunched: WorkerEventBase.extend({ instanceId: z.string(), instanceType: z.string(), market: z.string(), availabilityZone: z.string(), amiId: z.string() }),
  WorkerReady: WorkerEventBase.extend({ agentVersion: z.string().optional() }),
  WorkerDraining: WorkerEventBase.extend({ reason: z.string(), releaseJobs: z.boolean() }),
  WorkerTerminating: WorkerEventBase.extend({ reason: z.string() }),
  WorkerTerminated: WorkerEventBase.extend({ reason: z.string(), message: z.string() }),
  WorkerProvisioningFailed: WorkerEventBase.extend({ failure: WorkerFailureSchema }),
  WorkerEc2MetricsUpdated: WorkerEventBase.extend({ metrics: Ec2MetricsSchema }),
  WorkerCloudWatchMetricsUpdated: WorkerEventBase.extend({ metrics: CloudWatchMetricsSchema }),
  WorkerAgentMetricsUpdated: WorkerEventBase.extend({ metrics: AgentMetricsSchema }),
  WorkerThresholdExceeded: WorkerEventBase.extend(ThresholdAlert),
  WorkerThresholdCleared: WorkerEventBase.extend({ ...ThresholdAlert, clearedAt: z.iso.datetime() }),
  WorkerMonitoringChanged: WorkerEventBase.extend({ detailedMonitoring: z.boolean(), requestedBy: z.string() }),
} as const;
export type WorkerEventType = keyof typeof WORKER_EVENT_SCHEMAS;
export const WORKER_EVENT_TYPES = Object.keys(WORKER_EVENT_SCHEMAS) as [WorkerEventType, ...WorkerEventType[]];

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
  ...WORKER_EVENT_SCHEMAS,
} as const;

export type EventType = keyof typeof EVENT_SCHEMAS;

/** The worker events a person should see as they happen: a CPU or memory threshold crossed, and cleared (alerts). */
export const WORKER_ALERT_EVENT_TYPES = ['WorkerThresholdExceeded', 'WorkerThresholdCleared'] as const satisfies readonly EventType[];
export const EVENT_TYPES = Object.keys(EVENT_SCHEMAS) as [EventType, ...EventType[]];
export type EventData<T extends EventType> = z.infer<(typeof EVENT_SCHEMAS)[T]>;

export const EventEnvelopeSchema = z.object({
  id: z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, 'id must be a ULID'),
  type: z.enum(EVENT_TYPES),
  source: z.enum(EVENT_SOURCES),
  subject: z.string().min(1),
  tenantId: z.string().min(1),
  time: z.iso.datetime(),
  correlationId: z.string().min(1),
  causationId: z.string().min(1).nullable(),
  version: z.literal(EVENT_VERSION),
  data: z.record(z.string(), z.unknown()),
});

/** The job run a job event is about (every job event's data carries it, JobEventBase). */
export const jobRunOf = (event: EventEnvelope): { jobId: string; run: number } => {
  const { jobId, run } = event.data as { jobId: string; run: number };
  return { jobId, run };
};

export interface EventEnvelope<T extends EventType = EventType> {
  id: string;
  type: T;
  source: (typeof EVENT_SOURCES)[number];
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
  /** A ULID chosen by the caller, so that a repeated write carries the same event id (the outbox refuses it). */
  eventId?: string;
}

/** Creates a job event; `extra` holds the type-specific fields beyond the common job snapshot. */
export type JobEventType = Exclude<EventType, WorkerEventType>;

/**
 * Events of a job that held a tenant slot and gave it back: its run ended, or went back to wait for a retry. Each is
 * a chance for a parked run of the tenant (admission.ts): the admission rule routes these, and the saga marks each
 * with `admitNext`.
 */
export const SLOT_FREEING_EVENTS = ['JobSucceeded', 'JobFailed', 'JobDeadLettered', 'JobCancelled', 'JobRetryScheduled'] as const satisfies readonly EventType[];
export const SLOT_HOLDING_STATUSES = ['DISPATCHED', 'RUNNING'] as const satisfies readonly Job['status'][];

export function freesSlot(event: Pick<EventEnvelope, 'type' | 'data'>): boolean {
  const previous = (event.data as { previousStatus?: string | null }).previousStatus;
  return (SLOT_FREEING_EVENTS as readonly string[]).includes(event.type) && (SLOT_HOLDING_STATUSES as readonly (string | null | undefined)[]).includes(previous);
}

/** The fields of a job every job event names. */
export type JobEventSubject = Pick<Job, 'jobId' | 'tenantId' | 'run' | 'attempts' | 'status' | 'priority' | 'workerClass' | 'callbackUrl' | 'createdAt'>;

export function jobEvent<T extends JobEventType>(
  type: T,
  job: JobEventSubject,
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
    createdAt: job.createdAt,
    ...extra,
  }) as EventData<T>;
  return {
    id: context.eventId ?? newEventId(),
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

/** The snapshot of a worker every worker event carries. */
export interface WorkerSnapshot {
  workerId: string;
  class: string;
  state: z.infer<typeof WorkerEventBase>['state'];
  instanceId?: string;
}

/** The type-specific fields of a worker event, beyond the worker snapshot. */
export type WorkerEventExtra<T extends WorkerEventType> = Omit<EventData<T>, 'workerId' | 'class' | 'state' | 'previousState' | 'instanceId'> & { instanceId?: string };

/** Creates a worker event; `extra` holds the type-specific fields beyond the worker snapshot. */
export function workerEvent<T extends WorkerEventType>(
  type: T,
  worker: WorkerSnapshot,
  previousState: WorkerSnapshot['state'] | null,
  extra: WorkerEventExtra<T>,
  context: EventContext,
): EventEnvelope<T> {
  const data = EVENT_SCHEMAS[type].parse({
    workerId: worker.workerId,
    class: worker.class,
    state: worker.state,
    previousState,
    ...(worker.instanceId ? { instanceId: worker.instanceId } : {}),
    ...extra,
  }) as EventData<T>;
  return {
    id: newEventId(),
    type,
    source: WORKER_EVENT_SOURCE,
    subject: worker.workerId,
    tenantId: PLATFORM_TENANT,
    time: context.time,
    correlationId: context.correlationId,
    causationId: context.causationId ?? null,
    version: EVENT_VERSION,
    data,
  };
}

/**
 * An event as a history (GET /v1/jobs/{id}/events, /v1/workers/{id}/events) and a webhook return it: the envelope
 * with the `data` of its type, one variant per type of the catalog above.
 */
const eventOfType = (type: EventType) => EventEnvelopeSchema.extend({ type: z.literal(type), data: EVENT_SCHEMAS[type] }).meta({ id: `${type}Event` });
export const EventResourceSchema = z
  .discriminatedUnion('type', EVENT_TYPES.map(eventOfType) as [ReturnType<typeof eventOfType>, ...ReturnType<typeof eventOfType>[]])
  .meta({ id: 'Event', description: 'A job or worker event: `type` names it, `data` holds its facts' });
