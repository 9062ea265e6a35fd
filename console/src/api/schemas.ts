import * as z from 'zod';
import { JOB_STATUSES } from '../../../functions/core/job-status.ts';
import { PRIORITIES } from '../../../functions/core/priority.ts';
import { WORKER_STATES } from '../../../functions/core/fleet/worker-state.ts';
import { AgentMetricsSchema, CloudWatchMetricsSchema, Ec2MetricsSchema, ThresholdBreachSchema } from '../../../functions/core/fleet/worker-metrics.ts';

/**
 * What the console reads of each API answer, checked where it enters: a field the API stops sending shows up as
 * one clear error instead of an `undefined` deep in a page. Loose objects: the API may add fields freely.
 */
export const ApiErrorBodySchema = z.object({
  code: z.string(),
  message: z.string(),
  details: z.record(z.string(), z.unknown()).default({}),
});

const FailureSchema = z.looseObject({
  reason: z.string(),
  message: z.string(),
  category: z.string(),
  retryable: z.boolean(),
  suggestedActions: z.array(z.string()),
});

const ResultSchema = z.looseObject({ exitCode: z.number().nullable(), durationMs: z.number(), outputTail: z.string() });

export const JobSummarySchema = z.looseObject({
  jobId: z.string(),
  status: z.enum(JOB_STATUSES),
  priority: z.enum(PRIORITIES),
  workerClass: z.string().optional(),
  attempts: z.number(),
  maxAttempts: z.number(),
  run: z.number(),
  cancelRequested: z.boolean().optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  workerId: z.string().optional(),
  failure: FailureSchema.optional(),
});
export type JobSummary = z.infer<typeof JobSummarySchema>;

export const JobSchema = JobSummarySchema.extend({
  /** A shell snippet, or a program and its arguments (functions/core/job-command.ts). */
  command: z.union([z.string(), z.array(z.string())]),
  /** Bumped by every write: tells which of two copies of the job is newer. */
  version: z.number(),
  args: z.array(z.string()).default([]),
  env: z.record(z.string(), z.string()).default({}),
  metadata: z.record(z.string(), z.string()).default({}),
  timeoutSeconds: z.number(),
  createdBy: z.string().optional(),
  callbackUrl: z.string().optional(),
  result: ResultSchema.optional(),
});
export type Job = z.infer<typeof JobSchema>;

export const pageOf = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), nextCursor: z.string().nullable().default(null) });

export const JobPageSchema = pageOf(JobSummarySchema);
export type JobPage = z.infer<typeof JobPageSchema>;

export const EventSchema = z.looseObject({
  id: z.string(),
  type: z.string(),
  time: z.string(),
  data: z.record(z.string(), z.unknown()),
});
export type JobEvent = z.infer<typeof EventSchema>;
export const EventPageSchema = pageOf(EventSchema);

export const WorkerSchema = z.looseObject({
  workerId: z.string(),
  class: z.string(),
  state: z.enum(WORKER_STATES),
  version: z.number(),
  instanceId: z.string().optional(),
  instanceType: z.string().optional(),
  amiName: z.string(),
  market: z.string().optional(),
  slots: z.number(),
  runningJobs: z.number(),
  agentVersion: z.string().optional(),
  lastHeartbeatAt: z.string().optional(),
  launchedAt: z.string().optional(),
  createdAt: z.string(),
  detailedMonitoring: z.boolean().default(false),
  metrics: z
    .object({ ec2: Ec2MetricsSchema.optional(), cloudWatch: CloudWatchMetricsSchema.optional(), agent: AgentMetricsSchema.optional() })
    .default({}),
  alerts: z.record(z.string(), ThresholdBreachSchema).default({}),
});
export type Worker = z.infer<typeof WorkerSchema>;
export const WorkerPageSchema = pageOf(WorkerSchema);

export const MonitoringAnswerSchema = z.object({
  worker: WorkerSchema,
  monitoring: z.looseObject({ detailedMonitoring: z.boolean(), monthlyCostUsd: z.number(), pricing: z.string() }),
});

const ByPriority = z.record(z.enum(PRIORITIES), z.number());
export const StatsSchema = z.looseObject({
  scope: z.enum(['tenant', 'global']),
  queued: ByPriority,
  running: ByPriority,
  totals: z.record(z.string(), z.number()),
});
export type Stats = z.infer<typeof StatsSchema>;
