import { DomainError } from '../errors.ts';

/**
 * The fleet's errors. Each sets a fixed `name` (not the class name, which a minifying bundler renames): the
 * provisioning state machine matches Retry and Catch on it.
 */
export class WorkerNotFoundError extends DomainError {
  override name = 'WorkerNotFound';
  readonly code = 'WORKER_NOT_FOUND';
  constructor(workerId: string) {
    super(`Worker ${workerId} was not found`, { details: { workerId } });
  }
}

/** Another writer changed the worker between our read and our conditional write (or it already exists). */
export class WorkerConflictError extends DomainError {
  override name = 'WorkerConflict';
  readonly code = 'WORKER_CONFLICT';
  override readonly retryable = true;
  constructor(workerId: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(`Worker ${workerId} was changed by another request; try again`, { cause: options.cause, details: { workerId, ...options.details } });
  }
}

/** The class's fleet count did not satisfy the bound the change asked for (at maximum, at minimum, or moved). */
export class FleetBoundError extends DomainError {
  override name = 'FleetBound';
  readonly code = 'FLEET_BOUND';
  constructor(workerClass: string, message: string) {
    super(message, { details: { workerClass } });
  }
}

export class FleetAtMaximumError extends DomainError {
  override name = 'FleetAtMaximum';
  readonly code = 'FLEET_AT_MAXIMUM';
  constructor(workerClass: string, maxWorkers: number) {
    super(`Worker class "${workerClass}" already has its maximum of ${maxWorkers} active workers`, { details: { workerClass, maxWorkers } });
  }
}

export class UnknownClassError extends DomainError {
  override name = 'UnknownWorkerClass';
  readonly code = 'UNKNOWN_WORKER_CLASS';
  constructor(workerClass: string, known: readonly string[]) {
    super(`Worker class "${workerClass}" does not exist; known classes: ${known.join(', ')}`, { details: { workerClass, known } });
  }
}

export class UnknownAmiNameError extends DomainError {
  override name = 'UnknownAmiName';
  readonly code = 'UNKNOWN_AMI_NAME';
  constructor(workerClass: string, amiName: string, known: readonly string[]) {
    super(`Worker class "${workerClass}" has no AMI named "${amiName}"; known names: ${known.join(', ')}`, { details: { workerClass, amiName, known } });
  }
}

export class UnknownInstanceTypeError extends DomainError {
  override name = 'UnknownInstanceType';
  readonly code = 'UNKNOWN_INSTANCE_TYPE';
  constructor(workerClass: string, instanceType: string, known: readonly string[]) {
    super(`Worker class "${workerClass}" does not allow instance type "${instanceType}"; allowed: ${known.join(', ')}`, {
      details: { workerClass, instanceType, known },
    });
  }
}

/** The worker is not in a state that allows the request (e.g. draining a FAILED worker). */
export class WorkerStateConflictError extends DomainError {
  override name = 'WorkerStateConflict';
  readonly code = 'WORKER_STATE_CONFLICT';
  constructor(workerId: string, state: string, action: string) {
    super(`Worker ${workerId} is ${state} and cannot ${action}`, { details: { workerId, state } });
  }
}

/** Detailed monitoring is EC2's: a local worker (a process) has none to switch. */
export class MonitoringNotApplicableError extends DomainError {
  override name = 'MonitoringNotApplicable';
  readonly code = 'MONITORING_NOT_APPLICABLE';
  constructor(workerId: string, reason: string) {
    super(`Detailed monitoring cannot be switched for worker ${workerId}: ${reason}`, { details: { workerId } });
  }
}

/** Collection is not wired where the request came in (a function built without the metric sources). */
export class MetricsUnavailableError extends DomainError {
  override name = 'MetricsUnavailable';
  readonly code = 'METRICS_UNAVAILABLE';
  constructor() {
    super('Worker metrics cannot be collected here');
  }
}
