import type { EventEnvelope } from './events.ts';
import type { JobRecord, JobStatus, Priority } from './job.ts';

/**
 * One atomic state change: the job as it will be, what it must still be for the write to apply, the event
 * that records it and the status move the counters follow. A JobStore commits all of it or none of it.
 */
export interface JobChange {
  job: JobRecord;
  /** Absent for a new job (the write requires that no job with this id exists). */
  expected?: { status: JobStatus; version: number };
  event: EventEnvelope;
  statusMove: { from: JobStatus | null; to: JobStatus; priority: Priority };
}

export interface ListJobsQuery {
  tenantId: string;
  status?: JobStatus;
  priority?: Priority;
  limit: number;
  cursor?: string;
}

export interface JobPage {
  items: JobRecord[];
  nextCursor?: string;
}

/** The counter scope of a tenant, or of the whole platform. */
export type StatsScope = { tenantId: string } | 'global';

export interface JobStore {
  get(jobId: string): Promise<JobRecord | undefined>;
  /** Throws JobAlreadyExistsError (with the stored job) or ConcurrentModificationError. */
  commit(change: JobChange): Promise<void>;
  list(query: ListJobsQuery): Promise<JobPage>;
  counters(scope: StatsScope): Promise<Record<string, number>>;
  /** Resolves when the store answers; used by /health. */
  ping(): Promise<void>;
}

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export interface PublishOutcome {
  /** Ids of events EventBridge did not accept after every retry, with the last error it gave for each. */
  failed: { eventId: string; errorCode: string; errorMessage: string }[];
}

/** Publishes domain events to the bus. Implementations retry only what failed. */
export interface EventPublisher {
  publish(events: readonly EventEnvelope[]): Promise<PublishOutcome>;
}
