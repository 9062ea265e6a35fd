import type { JobRecord } from './job.ts';
/**
 * The domain's error hierarchy. Each error knows its stable `code` and whether a retry could help;
 * mapping to HTTP statuses, SQS outcomes or Step Functions errors happens only at the edges.
 */
export interface DomainErrorOptions extends ErrorOptions {
  details?: Record<string, unknown>;
}

export abstract class DomainError extends Error {
  abstract readonly code: string;
  readonly details: Record<string, unknown>;
  readonly retryable: boolean = false;

  constructor(message: string, options: DomainErrorOptions = {}) {
    super(message, options);
    this.name = new.target.name;
    this.details = options.details ?? {};
  }
}

export class ValidationError extends DomainError {
  readonly code = 'VALIDATION_ERROR';
}

export class JobNotFoundError extends DomainError {
  override name = 'JobNotFoundError';
  readonly code = 'JOB_NOT_FOUND';
  constructor(jobId: string) {
    super(`Job ${jobId} was not found`, { details: { jobId } });
  }
}

export class IdempotencyKeyReusedError extends DomainError {
  readonly code = 'IDEMPOTENCY_KEY_REUSED';
  constructor(jobId: string) {
    super('This Idempotency-Key was already used with a different request body', { details: { jobId } });
  }
}

/** A transition the state table does not allow, e.g. SUCCEEDED → QUEUED. */
export class IllegalTransitionError extends DomainError {
  override name = 'IllegalTransitionError';
  readonly code = 'ILLEGAL_TRANSITION';
  constructor(
    readonly from: string,
    readonly to: string,
    jobId?: string,
  ) {
    super(`A job cannot move from ${from} to ${to}`, { details: { from, to, ...(jobId ? { jobId } : {}) } });
  }
}

export class JobNotCancellableError extends DomainError {
  readonly code = 'JOB_NOT_CANCELLABLE';
  constructor(jobId: string, status: string) {
    super(`Job ${jobId} is ${status} and can no longer be cancelled`, { details: { jobId, status } });
  }
}

export class JobNotRetryableError extends DomainError {
  readonly code = 'JOB_NOT_RETRYABLE';
  constructor(jobId: string, status: string) {
    super(`Job ${jobId} is ${status}; only FAILED or DEAD_LETTERED jobs can be retried`, {
      details: { jobId, status },
    });
  }
}

/**
 * Another writer changed the job between our read and our conditional write. The saga's Retry matches this name, so
 * it is spelled out: a minifying bundler would otherwise rename the class, and with it the error's name.
 */
export class ConcurrentModificationError extends DomainError {
  override name = 'ConcurrentModificationError';
  readonly code = 'CONCURRENT_MODIFICATION';
  override readonly retryable = true;
  /**
   * The job as the failed condition found it, when the store could tell (DynamoDB's ALL_OLD): the next decision can
   * start from it instead of reading again. Never in `details`, which clients see: it holds the task token.
   */
  readonly current?: JobRecord;
  constructor(jobId: string, options: DomainErrorOptions & { current?: JobRecord } = {}) {
    const { current, ...rest } = options;
    super(`Job ${jobId} was changed by another request; try again`, {
      ...rest,
      details: { jobId, ...rest.details },
    });
    if (current) this.current = current;
  }
}

export class InvalidCursorError extends DomainError {
  readonly code = 'INVALID_CURSOR';
  constructor() {
    super('The cursor is not valid for this query; start again without a cursor');
  }
}

/** A create lost to an existing job with the same id; carries that job so the caller can compare requests. */
export class JobAlreadyExistsError<T = unknown> extends DomainError {
  readonly code = 'JOB_ALREADY_EXISTS';
  constructor(readonly existing: T, jobId: string) {
    super(`Job ${jobId} already exists`, { details: { jobId } });
  }
}

/** The job's command, args and env together are larger than a saga's state can carry. */
export class SpecTooLargeError extends DomainError {
  override name = 'SpecTooLargeError';
  readonly code = 'SPEC_TOO_LARGE';
  constructor(bytes: number, limitBytes: number) {
    super(`command, args and env together take ${bytes} bytes as JSON; the limit is ${limitBytes} bytes`, { details: { bytes, limitBytes } });
  }
}

export class ForbiddenError extends DomainError {
  readonly code = 'FORBIDDEN';
}
