import { JOB_STATUSES, JobStatus, TERMINAL_STATUSES } from './job-status.ts';
import { PRIORITIES, type Priority } from './priority.ts';

/** Counter attribute for jobs in `status` at `priority`. Counters are only ever moved together with the job. */
export const counterName = (status: JobStatus, priority: Priority) => `${status}#${priority}`;

export interface CounterDelta {
  name: string;
  delta: 1 | -1;
}

/** The counter moves that accompany a status change; `from` is null for a new job. */
export function counterDeltas(from: JobStatus | null, to: JobStatus, priority: Priority): CounterDelta[] {
  if (from === to) return [];
  const deltas: CounterDelta[] = [{ name: counterName(to, priority), delta: 1 }];
  if (from) deltas.push({ name: counterName(from, priority), delta: -1 });
  return deltas;
}

export type PriorityCounts = Record<Priority, number>;

export interface QueueStats {
  /** Waiting for a worker: QUEUED plus RETRY_SCHEDULED. */
  queued: PriorityCounts;
  /** Held by a worker: DISPATCHED plus RUNNING. */
  running: PriorityCounts;
  /** Jobs that ended, per terminal status. */
  totals: Record<'SUCCEEDED' | 'FAILED' | 'CANCELLED' | 'DEAD_LETTERED', number>;
  /** The full status × priority matrix the figures above are drawn from. */
  byStatus: Record<JobStatus, PriorityCounts>;
}

const zeroByPriority = (): PriorityCounts =>
  Object.fromEntries(PRIORITIES.map((p) => [p, 0])) as PriorityCounts;

/** Folds raw counters (possibly from several shards) into the stats view. */
export function toQueueStats(counters: Record<string, number>): QueueStats {
  const byStatus = Object.fromEntries(JOB_STATUSES.map((s) => [s, zeroByPriority()])) as Record<JobStatus, PriorityCounts>;
  for (const status of JOB_STATUSES) {
    for (const priority of PRIORITIES) byStatus[status][priority] = counters[counterName(status, priority)] ?? 0;
  }
  const sum = (statuses: JobStatus[]) => {
    const out = zeroByPriority();
    for (const p of PRIORITIES) out[p] = statuses.reduce((acc, s) => acc + byStatus[s][p], 0);
    return out;
  };
  const total = (s: JobStatus) => PRIORITIES.reduce((acc, p) => acc + byStatus[s][p], 0);
  return {
    queued: sum([JobStatus.QUEUED, JobStatus.RETRY_SCHEDULED]),
    running: sum([JobStatus.DISPATCHED, JobStatus.RUNNING]),
    totals: Object.fromEntries(TERMINAL_STATUSES.map((s) => [s, total(s)])) as QueueStats['totals'],
    byStatus,
  };
}
