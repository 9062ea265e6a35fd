import { canTransition, isTerminal, JobStatus } from './job-status.ts';

/**
 * What a person may ask of a job in a given status, read off the one transition table (job-status.ts), so the API
 * and the console offer the same actions. A job a worker holds can be cancelled too: it is marked and stopped.
 */
export const canCancel = (status: JobStatus): boolean => canTransition(status, JobStatus.CANCELLED);

/** An ended job that may be queued again as a new run: FAILED and DEAD_LETTERED (SUCCEEDED and CANCELLED are final). */
export const canRetry = (status: JobStatus): boolean => isTerminal(status) && canTransition(status, JobStatus.QUEUED);
