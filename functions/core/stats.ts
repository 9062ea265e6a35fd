import * as z from 'zod';
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

const count = z.number().int().nonnegative();
/** An object with every key of `keys`, each a count (z.record with enum keys documents no `required`). */
const countsOf = <K extends string>(keys: readonly [K, ...K[]], id: string) =>
  z.record(z.enum(keys), count).meta({ id, required: [...keys] });

const PriorityCountsSchema = countsOf(PRIORITIES, 'PriorityCounts');
export type PriorityCounts = z.output<typeof PriorityCountsSchema>;

const TERMINAL_TOTALS = ['SUCCEEDED', 'FAILED', 'CANCELLED', 'DEAD_LETTERED'] as const satisfies readonly JobStatus[];

/** The stats view of a scope's counters (GET /v1/queues/stats). */
export const QueueStatsSchema = z
  .object({
    queued: PriorityCountsSchema.meta({ description: 'Waiting for a worker: QUEUED plus RETRY_SCHEDULED' }),
    running: PriorityCountsSchema.meta({ description: 'Held by a worker: DISPATCHED plus RUNNING' }),
    totals: countsOf(TERMINAL_TOTALS, 'TerminalTotals').meta({ description: 'Jobs that ended, per terminal status' }),
    byStatus: z
      .record(z.enum(JOB_STATUSES), PriorityCountsSchema)
      .meta({ required: [...JOB_STATUSES], description: 'The full status × priority matrix the figures above are drawn from' }),
  })
  .meta({ id: 'QueueStats' });
export type QueueStats = z.output<typeof QueueStatsSchema>;

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
