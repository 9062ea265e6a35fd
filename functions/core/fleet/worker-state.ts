import { DomainError } from '../errors.ts';

export const WorkerState = {
  PROVISIONING: 'PROVISIONING',
  BOOTING: 'BOOTING',
  READY: 'READY',
  DRAINING: 'DRAINING',
  TERMINATING: 'TERMINATING',
  TERMINATED: 'TERMINATED',
  FAILED: 'FAILED',
} as const;
export type WorkerState = (typeof WorkerState)[keyof typeof WorkerState];
export const WORKER_STATES = Object.values(WorkerState) as [WorkerState, ...WorkerState[]];

const { PROVISIONING, BOOTING, READY, DRAINING, TERMINATING, TERMINATED, FAILED } = WorkerState;

/**
 * Every allowed move of a worker, written once (as job statuses are). The provisioning saga moves a worker from
 * PROVISIONING through BOOTING (instance launched) to READY (agent registered), or to FAILED after terminating
 * what it launched; an admin's removal ends a worker still starting TERMINATED. Scale-in is READY → DRAINING, asked for by the agent itself; the reaper and admins may also
 * drain. TERMINATING means the instance was asked to go; TERMINATED that it is gone. A worker that never became
 * READY ends FAILED; one that served ends TERMINATED.
 */
export const WORKER_TRANSITIONS: Readonly<Record<WorkerState, readonly WorkerState[]>> = {
  [PROVISIONING]: [BOOTING, FAILED, TERMINATED],
  [BOOTING]: [READY, FAILED, TERMINATING, TERMINATED],
  [READY]: [DRAINING, TERMINATING, TERMINATED],
  [DRAINING]: [TERMINATING, TERMINATED],
  [TERMINATING]: [TERMINATED],
  [TERMINATED]: [],
  [FAILED]: [],
};

/** States that count toward the fleet's size: the scaler launches only the difference to these. */
export const ACTIVE_WORKER_STATES: readonly WorkerState[] = [PROVISIONING, BOOTING, READY];
export const ENDED_WORKER_STATES: readonly WorkerState[] = [TERMINATED, FAILED];

export const isActiveWorker = (state: WorkerState) => ACTIVE_WORKER_STATES.includes(state);
export const isEndedWorker = (state: WorkerState) => ENDED_WORKER_STATES.includes(state);

export function canWorkerTransition(from: WorkerState, to: WorkerState): boolean {
  return WORKER_TRANSITIONS[from].includes(to);
}

export class IllegalWorkerTransitionError extends DomainError {
  override name = 'IllegalWorkerTransition';
  readonly code = 'ILLEGAL_WORKER_TRANSITION';
  constructor(
    readonly from: WorkerState,
    readonly to: WorkerState,
    workerId?: string,
  ) {
    super(`A worker cannot move from ${from} to ${to}`, { details: { from, to, ...(workerId ? { workerId } : {}) } });
  }
}

/** The one guard every worker state change goes through. */
export function assertWorkerTransition(from: WorkerState, to: WorkerState, workerId?: string): void {
  if (!canWorkerTransition(from, to)) throw new IllegalWorkerTransitionError(from, to, workerId);
}

/** The change in the count of active workers a move makes (+1 entering the fleet, −1 leaving it, 0 otherwise). */
export function activeDelta(from: WorkerState | null, to: WorkerState): -1 | 0 | 1 {
  const was = from !== null && isActiveWorker(from);
  const is = isActiveWorker(to);
  return was === is ? 0 : is ? 1 : -1;
}
