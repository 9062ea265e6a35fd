/**
 * The platform's metrics, declared once: handlers emit them as CloudWatch Embedded Metric Format (Powertools
 * Metrics), the CDK dashboard and alarms read them by these names, and the local runtime serves the job metrics as
 * Prometheus text. Dimensions stay low-cardinality on purpose (class, priority, reason, consumer, outcome, state):
 * a job or tenant id as a dimension would make a custom metric per job, each billed monthly.
 */
export const METRICS_NAMESPACE = 'Forgeflow';

export const MetricDimension = {
  WORKER_CLASS: 'WorkerClass',
  PRIORITY: 'Priority',
  REASON: 'Reason',
  CONSUMER: 'Consumer',
  OUTCOME: 'Outcome',
  STATE: 'State',
  METRIC: 'Metric',
  SOURCE: 'Source',
} as const;
export type MetricDimension = (typeof MetricDimension)[keyof typeof MetricDimension];

export type MetricUnitName = 'Count' | 'Milliseconds' | 'Percent';

export interface PlatformMetricDefinition {
  unit: MetricUnitName;
  /** The one dimension set it is emitted with (EMF: one DimensionSet per metric). */
  dimensions: readonly MetricDimension[];
  description: string;
}

const { WORKER_CLASS, PRIORITY, REASON, CONSUMER, OUTCOME, STATE, METRIC, SOURCE } = MetricDimension;

export const PLATFORM_METRICS = {
  JobsSubmitted: { unit: 'Count', dimensions: [WORKER_CLASS, PRIORITY], description: 'Jobs accepted by the API (their first run; an explicit retry is not a new submission)' },
  JobsStarted: { unit: 'Count', dimensions: [WORKER_CLASS, PRIORITY], description: 'Attempts whose command a worker started' },
  JobsSucceeded: { unit: 'Count', dimensions: [WORKER_CLASS, PRIORITY], description: 'Jobs that ended SUCCEEDED' },
  JobsFailed: { unit: 'Count', dimensions: [WORKER_CLASS, REASON], description: 'Jobs that ended FAILED, by failure reason' },
  JobsRetried: { unit: 'Count', dimensions: [WORKER_CLASS, REASON], description: 'Failed attempts scheduled for another try, by failure reason' },
  JobsDeadLettered: { unit: 'Count', dimensions: [WORKER_CLASS, REASON], description: 'Jobs that ended DEAD_LETTERED, by failure reason' },
  JobsCancelled: { unit: 'Count', dimensions: [WORKER_CLASS], description: 'Jobs that ended CANCELLED' },
  QueueWaitTime: { unit: 'Milliseconds', dimensions: [WORKER_CLASS, PRIORITY], description: "From a job's submission to the start of its first attempt" },
  RunDuration: { unit: 'Milliseconds', dimensions: [WORKER_CLASS], description: "A finished attempt's command run time, as the agent measured it" },
  EndToEndLatency: { unit: 'Milliseconds', dimensions: [WORKER_CLASS, PRIORITY], description: 'From submission to SUCCEEDED' },
  OutboxLag: { unit: 'Milliseconds', dimensions: [], description: "From an event's commit to its publish by the relay" },
  EventsRelayed: { unit: 'Count', dimensions: [], description: 'Outbox events the relay published' },
  RelayFailures: { unit: 'Count', dimensions: [], description: 'Outbox events the relay could not publish (retried by the stream)' },
  OptimisticPublishAttempts: { unit: 'Count', dimensions: [], description: "The API's direct publishes and saga starts after a commit" },
  OptimisticPublishSuccesses: { unit: 'Count', dimensions: [], description: 'Direct publishes EventBridge accepted, and saga starts Step Functions accepted' },
  OptimisticPublishFailures: { unit: 'Count', dimensions: [], description: 'Direct publishes that failed (the relay publishes them), and saga starts that failed (handed to the saga starter)' },
  SagaStartsLost: { unit: 'Count', dimensions: [], description: "Saga starts the API could neither make nor hand to the saga starter (the reconciler's sweep starts them)" },
  OptimisticPublishLatency: { unit: 'Milliseconds', dimensions: [], description: 'Time of one direct publish' },
  InboxProcessed: { unit: 'Count', dimensions: [CONSUMER], description: 'Events a consumer took effect for' },
  InboxDuplicates: { unit: 'Count', dimensions: [CONSUMER], description: 'Redelivered events a consumer recognised and skipped' },
  WebhookDeliveries: { unit: 'Count', dimensions: [OUTCOME], description: 'Webhook delivery attempts by outcome (delivered, retried, gave-up, refused)' },
  WorkersProvisioned: { unit: 'Count', dimensions: [WORKER_CLASS], description: 'Workers that reached READY' },
  WorkerProvisioningFailures: { unit: 'Count', dimensions: [WORKER_CLASS, REASON], description: 'Provisionings that failed, by reason' },
  FleetSize: { unit: 'Count', dimensions: [WORKER_CLASS, STATE], description: "Workers per state, counted at each collector run" },
  WorkersHealthy: { unit: 'Count', dimensions: [WORKER_CLASS], description: 'READY workers whose EC2 status checks pass and whose agent reports, counted at each collector run' },
  WorkerThresholdAlerts: { unit: 'Count', dimensions: [WORKER_CLASS, METRIC], description: 'Worker CPU or memory thresholds crossed' },
  MetricsCollectionErrors: { unit: 'Count', dimensions: [WORKER_CLASS, SOURCE], description: 'Worker metric sources (ec2, cloudWatch, agent) that could not answer' },
} as const satisfies Record<string, PlatformMetricDefinition>;

export type PlatformMetricName = keyof typeof PLATFORM_METRICS;

/**
 * EC2 detailed monitoring, as the monitoring endpoint quotes it: 7 metrics at 1-minute resolution billed as custom
 * metrics, $0.30 per metric per month for the first 10,000 (Amazon CloudWatch pricing, us-east-1, checked 2026).
 * Per-instance metrics are prorated by the hour, so a worker that lives part of the month costs less.
 */
export const DETAILED_MONITORING_COST = {
  metricsPerInstance: 7,
  usdPerMetricMonth: 0.3,
  usdPerInstanceMonth: 2.1,
  source: 'https://aws.amazon.com/cloudwatch/pricing/ (Metrics: detailed monitoring for EC2, $0.30 per metric-month, us-east-1)',
} as const;

/** GetMetricData, as the collector uses it: $0.01 per 1,000 metrics requested (same source). */
export const GET_METRIC_DATA_USD_PER_1000_METRICS = 0.01;

/**
 * A breached threshold clears only once the value is this many points below it, so a worker hovering around the
 * threshold raises one alert, not one per collection.
 */
export const THRESHOLD_HYSTERESIS_POINTS = 10;

/**
 * Worker memory, which EC2 does not measure: the CloudWatch agent the worker bootstrap installs publishes it, with
 * InstanceId as its only dimension (append_dimensions, omit_hostname). The collector reads it, the dashboard graphs it.
 */
export const WORKER_MEMORY_METRIC = { namespace: 'CWAgent', metricName: 'mem_used_percent', dimension: 'InstanceId' } as const;
export const WORKER_CPU_METRIC = { namespace: 'AWS/EC2', metricName: 'CPUUtilization', dimension: 'InstanceId' } as const;
