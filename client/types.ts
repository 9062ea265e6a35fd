/**
 * The shapes the API sends and takes, as TypeScript types. Each is read with `import type` from the zod schema the
 * server validates with and the OpenAPI document is generated from, so the client carries no server code (test:
 * test/client/types.test.ts) and cannot drift from what the routes produce.
 */
import type * as z from 'zod';
import type { LogChunkSchema, JobLogsSchema } from '../functions/api/log-routes.ts';
import type { ScopedStatsSchema } from '../functions/api/routes.ts';
import type { EventResourceSchema } from '../functions/core/events.ts';
import type { WorkerResource } from '../functions/core/fleet/worker.ts';
import type { WorkerState } from '../functions/core/fleet/worker-state.ts';
import type { JobResource, JobSpecInput, JobStatus, JobSummarySchema, Priority } from '../functions/core/job.ts';
import type { QueueStats } from '../functions/core/stats.ts';

/** What `submit` takes: the body of `POST /v1/jobs`, defaults optional. */
export type { JobSpecInput, JobStatus, Priority, QueueStats, WorkerState };
/** A job as `GET /v1/jobs/{id}` returns it. */
export type Job = JobResource;
/** One job of a batch submit (`submitBatch`), and how it fared. */
export type { JobBatchEntryInput, JobBatchEntryResult } from '../functions/api/batch-submit-route.ts';
/** A job as a list shows it: no command, environment or output. */
export type JobSummary = z.output<typeof JobSummarySchema>;
/** A job or worker event of the history, `data` typed by `type`. */
export type EventEnvelope = z.output<typeof EventResourceSchema>;
export type Worker = WorkerResource;
/** `GET /v1/queues/stats`: the scope asked for and its counters. */
export type StatsResponse = z.output<typeof ScopedStatsSchema>;
/** One chunk of an attempt's combined stdout and stderr. */
export type LogChunk = z.output<typeof LogChunkSchema>;
/** `GET /v1/jobs/{id}/logs`: one page of chunks; `complete` once the job ended and every chunk was returned. */
export type LogPage = z.output<typeof JobLogsSchema>;

/** Every list route answers `{ items, nextCursor }` (functions/api/routes.ts); `null` on the last page. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** `GET /v1/jobs` query (ListQuerySchema in functions/api/routes.ts). */
export interface JobFilter {
  status?: JobStatus;
  priority?: Priority;
  /** 1–100, default 20. */
  limit?: number;
  cursor?: string;
}

/** `GET /v1/workers` query (ListWorkersQuerySchema in functions/api/worker-routes.ts). */
export interface WorkerFilter {
  class?: string;
  state?: WorkerState;
  limit?: number;
  cursor?: string;
}

/** `limit` and `cursor` of a list that belongs to one resource (PageQuerySchema in functions/api/routes.ts). */
export interface PageQuery {
  limit?: number;
  cursor?: string;
}

export type StatsScope = StatsResponse['scope'];

export interface LogQuery {
  /** Default: the job's current attempt. */
  attempt?: number;
  cursor?: string;
}

/** The `end` event of the log stream: the job ended and every chunk was sent (written in log-routes.ts, no schema). */
export interface LogEnd {
  status: JobStatus;
  exitCode: number | null;
}

/**
 * The statuses a job does not leave by itself (TERMINAL_STATUSES in functions/core/job-status.ts). A value, so it is
 * written here rather than imported with the server's code; test/client/types.test.ts keeps the two equal.
 */
export const TERMINAL_JOB_STATUSES: readonly JobStatus[] = ['SUCCEEDED', 'FAILED', 'CANCELLED', 'DEAD_LETTERED'];

export const isTerminalStatus = (status: JobStatus): boolean => TERMINAL_JOB_STATUSES.includes(status);
