import type { EventEnvelope } from './events.ts';
import { assertTransition } from './job-status.ts';
import type { JobRecord, JobStatus, JobSummary, Priority } from './job.ts';
import type { DispatchMessage } from './saga-messages.ts';

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
  /** A concurrency slot the change reserves or releases, committed in the same transaction. */
  slot?: SlotDelta;
  /** Commit only while no run of this tenant is parked (the event says so); TenantRunsParkedError otherwise. */
  noneParked?: { tenantId: string };
}

/**
 * A state change written as a patch of the stored job, for a step that knows the facts its decision rests on but not
 * the whole job (the saga's RecordSuccess takes them from its execution's state). It applies only while the stored
 * job still shows every `expected` fact (a `false` also matches an absent flag); otherwise the store throws a
 * ConcurrentModificationError that carries the stored job, so the caller decides again from it without a read.
 * Fields in neither `set` nor `remove` keep their stored values; the version goes up by one.
 */
export interface JobPatchChange {
  jobId: string;
  tenantId: string;
  expected: { status: JobStatus; run: number; attempts: number; slotHeld: boolean; cancelRequested: boolean; stopRequested?: boolean };
  set: Partial<JobRecord> & { status: JobStatus; updatedAt: string };
  remove: readonly (keyof JobRecord)[];
  event: EventEnvelope;
  statusMove: JobChange['statusMove'];
  slot?: SlotDelta;
  noneParked?: JobChange['noneParked'];
}

export interface JobPatchStore {
  /** Throws ConcurrentModificationError (with `current` when the job exists) when an expected fact does not hold. */
  commitPatch(change: JobPatchChange): Promise<void>;
}

/** One of a tenant's concurrency slots: +1 reserves (refused once `limit` are in use), −1 releases. */
export type SlotDelta = { tenantId: string; delta: 1; limit: number } | { tenantId: string; delta: -1 };

/**
 * A change to platform-only fields of a job (no status move, so no event and no counters), such as a saga
 * compensation: still conditioned on the job's status and version, and still atomic with its slot delta.
 */
export interface JobBookkeepingChange {
  job: JobRecord;
  expected: { status: JobStatus; version: number };
  slot?: SlotDelta;
}

/**
 * Tenant concurrency slots. The store that keeps the jobs keeps the slots, so a job's claim or release and the
 * slot count commit together: a slot can neither leak nor be counted twice by a half-applied change.
 */
export interface SlotStore {
  /** Throws ConcurrentModificationError when the job changed, NoCapacityError when a reservation is refused. */
  commitBookkeeping(change: JobBookkeepingChange): Promise<void>;
  slotsInUse(tenantId: string): Promise<number>;
}

export interface ListJobsQuery {
  tenantId: string;
  status?: JobStatus;
  priority?: Priority;
  limit: number;
  cursor?: string;
}

export interface JobPage {
  items: JobSummary[];
  nextCursor?: string;
}

/** The counter scope of a tenant, or of the whole platform. */
export type StatsScope = { tenantId: string } | 'global';

export interface JobStore {
  get(jobId: string): Promise<JobRecord | undefined>;
  /** Throws JobAlreadyExistsError (with the stored job), ConcurrentModificationError, or NoCapacityError (slot). */
  commit(change: JobChange): Promise<void>;
  /**
   * New jobs of one tenant (changes without `expected`), all or none, in one write. Throws JobAlreadyExistsError,
   * without the stored job, when any of them exists.
   */
  commitAll(changes: readonly JobChange[]): Promise<void>;
  list(query: ListJobsQuery): Promise<JobPage>;
  counters(scope: StatsScope): Promise<Record<string, number>>;
  /** Resolves when the store answers; used by /health. */
  ping(): Promise<void>;
}

/** A token bucket in front of something rate-limited (functions/core/token-bucket.ts); `take` never waits. */
export interface RateLimiter {
  /** Takes one token: `waitMs` 0 means granted, otherwise how long until one is available. */
  take(key: string): Promise<{ granted: boolean; waitMs: number }>;
}

/** Where ClaimJob sends a claimed attempt: the dispatch queue of the job's class and priority, by URL. */
export interface DispatchQueues {
  send(queueUrl: string, message: DispatchMessage): Promise<void>;
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

/**
 * The change that moves `current` to `next` with its event: guarded by the transition table, conditioned on the
 * stored status and version, counters following the status. Every use case commits state changes through this.
 */
export function transitionChange(current: JobRecord, next: JobRecord, event: EventEnvelope, slot?: SlotDelta): JobChange {
  if (current.status !== next.status) assertTransition(current.status, next.status, current.jobId);
  return {
    job: next,
    expected: { status: current.status, version: current.version },
    event,
    statusMove: { from: current.status, to: next.status, priority: current.priority },
    ...(slot ? { slot } : {}),
  };
}
