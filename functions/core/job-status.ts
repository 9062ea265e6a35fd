import { IllegalTransitionError } from './errors.ts';

export const JobStatus = {
  QUEUED: 'QUEUED',
  DISPATCHED: 'DISPATCHED',
  RUNNING: 'RUNNING',
  RETRY_SCHEDULED: 'RETRY_SCHEDULED',
  SUCCEEDED: 'SUCCEEDED',
  FAILED: 'FAILED',
  CANCELLED: 'CANCELLED',
  DEAD_LETTERED: 'DEAD_LETTERED',
} as const;
export type JobStatus = (typeof JobStatus)[keyof typeof JobStatus];
export const JOB_STATUSES = Object.values(JobStatus) as [JobStatus, ...JobStatus[]];

const { QUEUED, DISPATCHED, RUNNING, RETRY_SCHEDULED, SUCCEEDED, FAILED, CANCELLED, DEAD_LETTERED } = JobStatus;

/**
 * Every allowed move, written once. A saga run claims QUEUED/RETRY_SCHEDULED jobs (→ DISPATCHED), the agent
 * reports RUNNING, and the run ends in a terminal state or RETRY_SCHEDULED. A job the saga cannot even claim
 * (unknown worker class: CONFIGURATION_ERROR) fails straight from QUEUED. FAILED and DEAD_LETTERED can be
 * re-queued by an explicit retry; SUCCEEDED and CANCELLED are final.
 */
export const TRANSITIONS: Readonly<Record<JobStatus, readonly JobStatus[]>> = {
  [QUEUED]: [DISPATCHED, CANCELLED, RETRY_SCHEDULED, FAILED],
  [DISPATCHED]: [RUNNING, SUCCEEDED, FAILED, RETRY_SCHEDULED, DEAD_LETTERED, CANCELLED],
  [RUNNING]: [SUCCEEDED, FAILED, RETRY_SCHEDULED, DEAD_LETTERED, CANCELLED],
  [RETRY_SCHEDULED]: [DISPATCHED, CANCELLED, FAILED, DEAD_LETTERED],
  [SUCCEEDED]: [],
  [FAILED]: [QUEUED],
  [CANCELLED]: [],
  [DEAD_LETTERED]: [QUEUED],
};

/** A tuple of literals, not a JobStatus[], so schemas keyed by it (the stats' totals) are typed per status. */
export const TERMINAL_STATUSES = [SUCCEEDED, FAILED, CANCELLED, DEAD_LETTERED] as const satisfies readonly JobStatus[];
export type TerminalStatus = (typeof TERMINAL_STATUSES)[number];

export function isTerminal(status: JobStatus): status is TerminalStatus {
  return (TERMINAL_STATUSES as readonly JobStatus[]).includes(status);
}

export function canTransition(from: JobStatus, to: JobStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** The one guard every state change goes through. */
export function assertTransition(from: JobStatus, to: JobStatus, jobId?: string): void {
  if (!canTransition(from, to)) throw new IllegalTransitionError(from, to, jobId);
}
