import * as z from 'zod';

/**
 * What the platform knows of a worker's health, from three sources kept apart: EC2 (instance and system status
 * checks, scheduled events), CloudWatch (CPU, and memory from the CloudWatch agent) and the worker's own agent
 * (its heartbeat's figures). Each block is written on its own, stamped with when it was read, and a source that
 * could not answer records its error in its block alone. `not-applicable`: the source cannot exist here (EC2 and
 * CloudWatch on the local runtime) or cannot answer yet (CloudWatch for a worker still booting).
 */
export const MetricSource = { EC2: 'ec2', CLOUDWATCH: 'cloudWatch', AGENT: 'agent' } as const;
export type MetricSource = (typeof MetricSource)[keyof typeof MetricSource];
export const METRIC_SOURCES = Object.values(MetricSource) as [MetricSource, ...MetricSource[]];

const SourceErrorSchema = z.object({ code: z.string(), message: z.string() });
export type SourceError = z.infer<typeof SourceErrorSchema>;

const unavailable = <T extends z.ZodRawShape>(stamp: T) =>
  [
    z.object({ status: z.literal('error'), error: SourceErrorSchema, ...stamp }),
    z.object({ status: z.literal('not-applicable'), message: z.string(), ...stamp }),
  ] as const;

/** EC2's status checks: ok, impaired, insufficient-data, not-applicable or initializing. */
const StatusCheckSchema = z.string().max(32);

export const Ec2MetricsSchema = z.union([
  z.object({
    status: z.literal('ok'),
    instanceState: z.string().max(32),
    systemStatus: StatusCheckSchema,
    instanceStatus: StatusCheckSchema,
    scheduledEvents: z.array(z.object({ code: z.string(), notBefore: z.iso.datetime().optional(), description: z.string().optional() })).max(20),
    checkedAt: z.iso.datetime(),
  }),
  ...unavailable({ checkedAt: z.iso.datetime() }),
]).meta({ id: 'Ec2Metrics', description: "EC2's view of the instance: its state, status checks and scheduled events" });
export type Ec2Metrics = z.infer<typeof Ec2MetricsSchema>;

export const CloudWatchMetricsSchema = z.union([
  z.object({
    status: z.literal('ok'),
    /** Percent, the latest datapoint of the window; null when CloudWatch had none (no datapoint yet, agent not running). */
    cpuUtilization: z.number().min(0).max(100).nullable(),
    memoryUtilization: z.number().min(0).max(100).nullable(),
    detailedMonitoring: z.boolean(),
    /** The datapoints' period: 60 with detailed monitoring, 300 without. */
    periodSeconds: z.number().int().positive(),
    collectedAt: z.iso.datetime(),
  }),
  ...unavailable({ collectedAt: z.iso.datetime() }),
]).meta({ id: 'CloudWatchMetrics', description: 'CPU and memory from CloudWatch (memory from the CloudWatch agent)' });
export type CloudWatchMetrics = z.infer<typeof CloudWatchMetricsSchema>;

/** What an agent reports with each heartbeat about itself and its host. */
export const AgentStatsSchema = z.object({
  runningJobs: z.number().int().nonnegative(),
  freeSlots: z.number().int().nonnegative(),
  jobsDone: z.number().int().nonnegative(),
  uptimeSeconds: z.number().nonnegative(),
  /** The host's 1, 5 and 15 minute load averages. */
  loadAverage: z.tuple([z.number().nonnegative(), z.number().nonnegative(), z.number().nonnegative()]),
  /** The agent process's resident memory. */
  memoryRssBytes: z.number().int().nonnegative(),
});
export type AgentStats = z.infer<typeof AgentStatsSchema>;

/**
 * Where the local runtime has no CloudWatch, it reads the agent process's CPU and memory from /proc: the figures
 * thresholds are checked against there.
 */
export const ProcessStatsSchema = z.object({
  cpuPercent: z.number().min(0),
  memoryPercent: z.number().min(0).max(100),
  memoryRssBytes: z.number().int().nonnegative(),
});
export type ProcessStats = z.infer<typeof ProcessStatsSchema>;

export const AgentMetricsSchema = z.union([
  AgentStatsSchema.extend({
    status: z.literal('ok'),
    agentVersion: z.string(),
    reportedAt: z.iso.datetime(),
    process: ProcessStatsSchema.optional(),
  }),
  ...unavailable({ reportedAt: z.iso.datetime() }),
]).meta({ id: 'AgentMetrics', description: "The worker agent's own figures, from its heartbeats" });
export type AgentMetrics = z.infer<typeof AgentMetricsSchema>;

export interface WorkerMetrics {
  ec2?: Ec2Metrics;
  cloudWatch?: CloudWatchMetrics;
  agent?: AgentMetrics;
}

/** The figures thresholds watch. */
export const ThresholdMetric = { CPU: 'cpu', MEMORY: 'memory' } as const;
export type ThresholdMetric = (typeof ThresholdMetric)[keyof typeof ThresholdMetric];
export const THRESHOLD_METRICS = Object.values(ThresholdMetric) as [ThresholdMetric, ...ThresholdMetric[]];

/** A threshold in breach: since when, and the value that crossed it. Absent: the metric is below its threshold. */
export const ThresholdBreachSchema = z.object({ since: z.iso.datetime(), value: z.number(), threshold: z.number() }).meta({ id: 'ThresholdBreach' });
export type ThresholdBreach = z.infer<typeof ThresholdBreachSchema>;
export type WorkerAlerts = Partial<Record<ThresholdMetric, ThresholdBreach>>;

/**
 * The CPU and memory figures a worker's thresholds are checked against: CloudWatch's where it answered, else the
 * process figures the local runtime read. Undefined: nothing to judge (no datapoint), so no alert changes.
 */
export function thresholdInputs(metrics: WorkerMetrics): Partial<Record<ThresholdMetric, number>> {
  const inputs: Partial<Record<ThresholdMetric, number>> = {};
  const cw = metrics.cloudWatch;
  if (cw?.status === 'ok') {
    if (cw.cpuUtilization !== null) inputs.cpu = cw.cpuUtilization;
    if (cw.memoryUtilization !== null) inputs.memory = cw.memoryUtilization;
  }
  const agent = metrics.agent;
  if (agent?.status === 'ok' && agent.process) {
    inputs.cpu ??= agent.process.cpuPercent;
    inputs.memory ??= agent.process.memoryPercent;
  }
  return inputs;
}
