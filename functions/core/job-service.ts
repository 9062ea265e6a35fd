import {
  ConcurrentModificationError,
  DomainError,
  ForbiddenError,
  IdempotencyKeyReusedError,
  JobAlreadyExistsError,
  JobNotCancellableError,
  JobNotFoundError,
  JobNotRetryableError,
  SpecTooLargeError,
} from './errors.ts';
import { jobEvent, type EventContext } from './events.ts';
import { describeFailure } from './failure-reasons.ts';
import { deriveJobId, newEventId, requestHash } from './ids.ts';
import { JobStatus } from './job-status.ts';
import { canRetry } from './job-actions.ts';
import { dispatchPayloadBytes, LIMITS, queuedOverdueAt, type JobRecord, type JobSpec } from './job.ts';
import { transitionChange, type Clock, type JobChange, type JobPage, type JobStore, type ListJobsQuery } from './ports.ts';
import { retryOnConflict } from './conflict-retry.ts';
import { isPlatformAdmin } from './roles.ts';
import { toQueueStats, type QueueStats } from './stats.ts';

export interface Actor {
  sub: string;
  tenantId: string;
  groups: readonly string[];
}


export interface JobServiceDeps {
  store: JobStore;
  clock: Clock;
}

export interface SubmitResult {
  job: JobRecord;
  replayed: boolean;
}

/** One job of a batch submit, with the key that makes retrying the batch safe. */
export interface BatchEntry {
  spec: JobSpec;
  idempotencyKey?: string;
}

/** How one job of a batch fared, in the batch's order. */
export type BatchEntryResult = { outcome: 'created' | 'replayed'; job: JobRecord } | { outcome: 'failed'; error: DomainError };

/** A new job and the change that creates it. */
interface Submission {
  change: JobChange;
}

/** A domain error (a refusal meant for the caller) as a value; anything else is thrown on. */
async function domainFailureAsValue<T>(run: () => T | Promise<T>): Promise<T | DomainError> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
}


/** The job use cases. Pure orchestration over the JobStore port: no AWS SDK here. */
export class JobService {
  constructor(private readonly deps: JobServiceDeps) {}

  async submit(actor: Actor, spec: JobSpec, idempotencyKey: string | undefined, correlationId: string): Promise<SubmitResult> {
    return this.commitSubmission(this.prepareSubmission(actor, spec, idempotencyKey, correlationId));
  }

  /**
   * Up to LIMITS.batchJobsMax jobs of one tenant in one write: jobs, events and counters commit together, so a batch
   * costs one transaction however many jobs it holds. When one of its jobs exists already (a retried batch, a key
   * used before), that write is refused whole and each job goes on its own, exactly as a single submit would: created,
   * replayed, or refused with its own error. A job refused by the domain fails alone; the others are queued.
   */
  async submitBatch(actor: Actor, entries: readonly BatchEntry[], correlationId: string): Promise<BatchEntryResult[]> {
    const prepared = await Promise.all(entries.map((entry) => domainFailureAsValue(() => this.prepareSubmission(actor, entry.spec, entry.idempotencyKey, correlationId))));
    const submissions = prepared.filter((p): p is Submission => !(p instanceof DomainError));
    if (submissions.length > 0) {
      try {
        await this.deps.store.commitAll(submissions.map((s) => s.change));
        return prepared.map((p) => (p instanceof DomainError ? { outcome: 'failed', error: p } : { outcome: 'created', job: p.change.job }));
      } catch (error) {
        if (!(error instanceof JobAlreadyExistsError)) throw error;
      }
    }
    return Promise.all(
      prepared.map(async (p): Promise<BatchEntryResult> => {
        if (p instanceof DomainError) return { outcome: 'failed', error: p };
        const result = await domainFailureAsValue(() => this.commitSubmission(p));
        if (result instanceof DomainError) return { outcome: 'failed', error: result };
        return { outcome: result.replayed ? 'replayed' : 'created', job: result.job };
      }),
    );
  }

  private prepareSubmission(actor: Actor, spec: JobSpec, idempotencyKey: string | undefined, correlationId: string): Submission {
    const bytes = dispatchPayloadBytes(spec);
    if (bytes > LIMITS.dispatchPayloadBytes) throw new SpecTooLargeError(bytes, LIMITS.dispatchPayloadBytes);
    const jobId = deriveJobId(actor.tenantId, idempotencyKey ?? newEventId());
    const now = this.deps.clock.now().toISOString();
    const job: JobRecord = {
      ...spec,
      jobId,
      tenantId: actor.tenantId,
      status: JobStatus.QUEUED,
      version: 1,
      run: 1,
      attempts: 0,
      cancelRequested: false,
      createdAt: now,
      updatedAt: now,
      createdBy: actor.sub,
      requestHash: requestHash(spec),
      overdueAt: queuedOverdueAt(now),
    };
    const event = jobEvent(
      'JobQueued',
      job,
      null,
      { reason: 'submitted', timeoutSeconds: job.timeoutSeconds, maxAttempts: job.maxAttempts },
      { time: now, correlationId },
    );
    return { change: { job, event, statusMove: { from: null, to: JobStatus.QUEUED, priority: job.priority } } };
  }

  /** Creates the job, or finds the one an earlier request with the same key created (a replay when the bodies match). */
  private async commitSubmission({ change }: Submission): Promise<SubmitResult> {
    const { job } = change;
    try {
      await this.deps.store.commit(change);
      return { job, replayed: false };
    } catch (error) {
      if (!(error instanceof JobAlreadyExistsError)) throw error;
      const existing = (error.existing as JobRecord | undefined) ?? (await this.deps.store.get(job.jobId));
      if (!existing) throw new ConcurrentModificationError(job.jobId, { cause: error });
      if (existing.requestHash !== job.requestHash) throw new IdempotencyKeyReusedError(job.jobId);
      return { job: existing, replayed: true };
    }
  }

  /** Another tenant's job answers exactly like a missing one, so ids leak nothing. */
  async get(actor: Actor, jobId: string): Promise<JobRecord> {
    const job = await this.deps.store.get(jobId);
    if (!job || job.tenantId !== actor.tenantId) throw new JobNotFoundError(jobId);
    return job;
  }

  list(actor: Actor, query: Omit<ListJobsQuery, 'tenantId'>): Promise<JobPage> {
    return this.deps.store.list({ ...query, tenantId: actor.tenantId });
  }

  /**
   * Cancels a waiting job at once; a job a worker holds is marked cancel-requested and the worker stops it.
   * Returns the job as stored after the request.
   */
  cancel(actor: Actor, jobId: string, correlationId: string): Promise<JobRecord> {
    return this.withConflictRetry(actor, jobId, async (job) => {
      const context = this.eventContext(correlationId);
      switch (job.status) {
        case JobStatus.QUEUED:
        case JobStatus.RETRY_SCHEDULED: {
          // Every cancelled job carries the same reason, whether it was stopped waiting or running.
          const failure = describeFailure('CANCELLED', `Cancelled by ${actor.sub} before it ran`);
          const next = this.next(job, { status: JobStatus.CANCELLED, finishedAt: context.time, cancelRequested: true, failure });
          await this.commitTransition(job, next, jobEvent('JobCancelled', next, job.status, { cancelledBy: actor.sub }, context));
          return next;
        }
        case JobStatus.DISPATCHED:
        case JobStatus.RUNNING: {
          if (job.cancelRequested) return job;
          const next = this.next(job, { cancelRequested: true, cancelRequestedAt: context.time });
          await this.commitTransition(job, next, jobEvent('JobCancelRequested', next, job.status, { requestedBy: actor.sub }, context));
          return next;
        }
        default:
          throw new JobNotCancellableError(jobId, job.status);
      }
    });
  }

  /** Re-queues a FAILED or DEAD_LETTERED job as a new run with its attempts reset. */
  retry(actor: Actor, jobId: string, correlationId: string): Promise<JobRecord> {
    return this.withConflictRetry(actor, jobId, async (job) => {
      if (!canRetry(job.status)) {
        throw new JobNotRetryableError(jobId, job.status);
      }
      const context = this.eventContext(correlationId);
      // The new run starts clean: its own execution (named after the run), no traces of the last one's attempts.
      const { result: _r, failure: _f, startedAt: _s, finishedAt: _e, workerId: _w, execution: _x, resumes: _n, cancelRequestedAt: _c, ...rest } = job;
      const next = this.next(rest, { status: JobStatus.QUEUED, run: job.run + 1, attempts: 0, cancelRequested: false, overdueAt: queuedOverdueAt(context.time) });
      const event = jobEvent('JobQueued', next, job.status, { reason: 'retried', timeoutSeconds: next.timeoutSeconds, maxAttempts: next.maxAttempts }, context);
      await this.commitTransition(job, next, event);
      return next;
    });
  }

  async stats(actor: Actor, scope: 'tenant' | 'global'): Promise<QueueStats> {
    if (scope === 'global' && !isPlatformAdmin(actor)) throw new ForbiddenError('Only platform admins may read platform-wide stats');
    const counters = await this.deps.store.counters(scope === 'global' ? 'global' : { tenantId: actor.tenantId });
    return toQueueStats(counters);
  }

  private eventContext(correlationId: string): EventContext {
    return { time: this.deps.clock.now().toISOString(), correlationId };
  }

  private next(job: JobRecord, changes: Partial<JobRecord>): JobRecord {
    return { ...job, ...changes, version: job.version + 1, updatedAt: this.deps.clock.now().toISOString() };
  }

  private async commitTransition(current: JobRecord, next: JobRecord, event: JobChangeEvent): Promise<void> {
    await this.deps.store.commit(transitionChange(current, next, event));
  }

  /** Reads, decides and writes; when another writer got there first, reads again and decides again. */
  private withConflictRetry(actor: Actor, jobId: string, decide: (job: JobRecord) => Promise<JobRecord>): Promise<JobRecord> {
    return retryOnConflict(() => this.get(actor, jobId), decide, (error) => error instanceof ConcurrentModificationError);
  }
}

type JobChangeEvent = Parameters<JobStore['commit']>[0]['event'];
