import { DomainError } from './errors.ts';

/**
 * Errors the saga steps raise. Step Functions matches `Retry`/`Catch` on the error *name* (for a Lambda task, the
 * thrown error's `name` becomes the `Error` field), so each sets a stable name that the ASL spells out; whether a
 * retry can help is decided here, where the error is raised.
 */

/** The job is not there to be claimed by this run: cancelled, finished, or moved on to another run. */
export class JobNotClaimableError extends DomainError {
  override name = 'JobNotClaimable';
  readonly code = 'JOB_NOT_CLAIMABLE';
  constructor(jobId: string, reason: string) {
    super(`Job ${jobId} cannot be claimed: ${reason}`, { details: { jobId, reason } });
  }
}

/** Every concurrency slot of the tenant is taken; the ClaimJob state retries with backoff and jitter. */
export class NoCapacityError extends DomainError {
  override name = 'NoCapacity';
  readonly code = 'NO_CAPACITY';
  override readonly retryable = true;
  constructor(tenantId: string, limit?: number) {
    super(`Tenant ${tenantId} already runs as many jobs as it may${limit === undefined ? '' : ` (${limit})`}`, {
      details: { tenantId, ...(limit === undefined ? {} : { limit }) },
    });
  }
}

/**
 * A change whose event frees a slot was to commit saying that nobody waits for one, but runs of the tenant are
 * parked: it commits again with an event that admits the next (SagaService.commitFreeing).
 */
export class TenantRunsParkedError extends DomainError {
  override name = 'TenantRunsParked';
  readonly code = 'TENANT_RUNS_PARKED';
  override readonly retryable = true;
  constructor(tenantId: string) {
    super(`Runs of tenant ${tenantId} are waiting for a slot`, { details: { tenantId } });
  }
}

/**
 * The job refers to a worker class the platform does not run. Named after the catalog reason so that the
 * Categorize step keeps it as is: a user error, not retryable.
 */
export class UnknownWorkerClassError extends DomainError {
  override name = 'CONFIGURATION_ERROR';
  readonly code = 'CONFIGURATION_ERROR';
  constructor(workerClass: string, known: readonly string[]) {
    super(`Worker class "${workerClass}" does not exist; known classes: ${known.join(', ')}`, { details: { workerClass } });
  }
}
