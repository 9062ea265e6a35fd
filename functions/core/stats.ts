import * as z from 'zod';
import { JOB_STATUSES, JobStatus, TERMINAL_STATUSES, type TerminalStatus } from './job-status.ts';
import { PRIORITIES, type Priority } from './priority.ts';

/**
 * A job held by a worker is counted once, whether DISPATCHED or RUNNING: the agent's start (DISPATCHED → RUNNING)
 * then moves no counter, so it is one conditional write of the job item alone, not a transaction (decision 0022).
 */
const HELD = 'HELD';
type CountedAs = Exclude<JobStatus, typeof JobStatus.DISPATCHED | typeof JobStatus.RUNNING> | typeof HELD;
const countedAs = (status: JobStatus): CountedAs => (status === JobStatus.DISPATCHED || status === JobStatus.RUNNING ? HELD : status);

/** The statuses counted apart: every one but DISPATCHED and RUNNING, which are counted together as `running`. */
export const COUNTED_STATUSES = JOB_STATUSES.filter((s) => countedAs(s) === s) as [Exclude<CountedAs, typeof HELD>, ...Exclude<CountedAs, typeof HELD>[]];

const COUNTER_SEPARATOR = '#';
const attribute = (counted: string, priority: Priority) => `${counted}${COUNTER_SEPARATOR}${priority}`;

/** Counter attribute for jobs in `status` at `priority`. Counters are only ever moved together with the job. */
export const counterName = (status: JobStatus, priority: Priority) => attribute(countedAs(status), priority);

/** Whether an item's attribute is a counter (`<status>#<priority>`), not a count of another kind kept beside them. */
export const isCounterName = (name: string) => name.includes(COUNTER_SEPARATOR);

export interface CounterDelta {
  name: string;
  delta: 1 | -1;
}

/** The counter moves that accompany a status change; `from` is null for a new job. */
export function counterDeltas(from: JobStatus | null, to: JobStatus, priority: Priority): CounterDelta[] {
  if (from !== null && countedAs(from) === countedAs(to)) return [];
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

/** The stats view of a scope's counters (GET /v1/queues/stats). */
export const QueueStatsSchema = z
  .object({
    queued: PriorityCountsSchema.meta({ description: 'Waiting for a worker: QUEUED plus RETRY_SCHEDULED' }),
    running: PriorityCountsSchema.meta({ description: 'Held by a worker: DISPATCHED plus RUNNING (counted together)' }),
    totals: countsOf(TERMINAL_STATUSES, 'TerminalTotals').meta({ description: 'Jobs that ended, per terminal status' }),
    byStatus: z.record(z.enum(COUNTED_STATUSES), PriorityCountsSchema).meta({
      required: [...COUNTED_STATUSES],
      description: 'The status × priority matrix the figures above are drawn from; jobs held by a worker are in `running` only',
    }),
  })
  .meta({ id: 'QueueStats' });
export type QueueStats = z.output<typeof QueueStatsSchema>;

const zeroByPriority = (): PriorityCounts =>
  Object.fromEntries(PRIORITIES.map((p) => [p, 0])) as PriorityCounts;

/** Folds raw counters (possibly from several shards) into the stats view. */
export function toQueueStats(counters: Record<string, number>): QueueStats {
  const byStatus = Object.fromEntries(COUNTED_STATUSES.map((s) => [s, zeroByPriority()])) as QueueStats['byStatus'];
  for (const status of COUNTED_STATUSES) {
    for (const priority of PRIORITIES) byStatus[status][priority] = counters[counterName(status, priority)] ?? 0;
  }
  const queued = zeroByPriority();
  const running = zeroByPriority();
  for (const p of PRIORITIES) {
    queued[p] = byStatus.QUEUED[p] + byStatus.RETRY_SCHEDULED[p];
    // Counters written before the two were counted together (DISPATCHED#p, RUNNING#p) still hold jobs claimed then.
    running[p] = [HELD, JobStatus.DISPATCHED, JobStatus.RUNNING].reduce((sum, name) => sum + (counters[attribute(name, p)] ?? 0), 0);
  }
  const total = (s: TerminalStatus) => PRIORITIES.reduce((acc, p) => acc + byStatus[s][p], 0);
  return {
    queued,
    running,
    totals: Object.fromEntries(TERMINAL_STATUSES.map((s) => [s, total(s)])) as QueueStats['totals'],
    byStatus,
  };
}
