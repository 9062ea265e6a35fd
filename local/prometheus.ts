import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoJobStore } from '../functions/adapters/dynamodb/job-store.ts';
import { DynamoWorkerStore } from '../functions/adapters/dynamodb/worker-store.ts';
import { parseEvent, type EventEnvelope } from '../functions/core/events.ts';
import { observationsOfEvent, type MetricObservation } from '../functions/core/platform-metrics.ts';
import { PLATFORM_METRICS, type MetricDimension, type PlatformMetricName } from '../functions/declarations/metrics.ts';
import { COUNTERS_TABLE, JOBS_TABLE, localTableName, OUTBOX_TABLE, WORKERS_TABLE } from '../functions/declarations/tables.ts';
import { LOCAL_REGION, type LocalCredentials } from './dynamodb-local.ts';
import type { EventBackbone } from './event-backbone.ts';
import type { LocalEventBus } from './event-bus.ts';
import { registerGauges, type GaugeSources } from './prometheus-gauges.ts';

/** Seconds: a `true` takes tens of milliseconds, a build an hour. */
const DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];
const WAIT_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600];

/**
 * The Prometheus names of the declared metrics that observationsOfEvent yields. Kind, help and labels come from the
 * declaration: a Count is a counter, Milliseconds a histogram in seconds, each dimension a snake_case label. An
 * observation of a metric not listed here is not served.
 */
export const PROMETHEUS_NAMES: Partial<Record<PlatformMetricName, { name: string; buckets?: readonly number[] }>> = {
  JobsSubmitted: { name: 'forgeflow_jobs_submitted_total' },
  JobsStarted: { name: 'forgeflow_jobs_started_total' },
  JobsSucceeded: { name: 'forgeflow_jobs_succeeded_total' },
  JobsFailed: { name: 'forgeflow_jobs_failed_total' },
  JobsRetried: { name: 'forgeflow_jobs_retried_total' },
  JobsDeadLettered: { name: 'forgeflow_jobs_dead_lettered_total' },
  JobsCancelled: { name: 'forgeflow_jobs_cancelled_total' },
  RunDuration: { name: 'forgeflow_job_duration_seconds', buckets: DURATION_BUCKETS },
  QueueWaitTime: { name: 'forgeflow_job_queue_wait_seconds', buckets: WAIT_BUCKETS },
  EndToEndLatency: { name: 'forgeflow_job_end_to_end_latency_seconds', buckets: DURATION_BUCKETS },
  WorkersProvisioned: { name: 'forgeflow_workers_provisioned_total' },
  WorkerProvisioningFailures: { name: 'forgeflow_worker_provisioning_failures_total' },
  WorkerThresholdAlerts: { name: 'forgeflow_worker_threshold_alerts_total' },
};

/** `WorkerClass` → `worker_class`. */
const labelOf = (dimension: MetricDimension) => dimension.replace(/(?<=[a-z0-9])([A-Z])/g, '_$1').toLowerCase();

/**
 * The ids of the last `capacity` events counted. Duplicates come close together: the API's optimistic publish and
 * the relay's publish of the same outbox record seconds apart, a publisher's retry within its backoff, the stream's
 * retries within its record age limit (an hour). 100,000 events is far more than an hour of local traffic, and costs
 * some megabytes, where a set of every id would grow for as long as `npm start` runs.
 */
export class SeenIds {
  private readonly ids = new Set<string>();
  // Insertion order, as a ring: the slot to fill next holds the oldest id once the ring is full.
  private readonly ring: string[] = [];
  private next = 0;

  constructor(readonly capacity = 100_000) {}

  has(id: string): boolean {
    return this.ids.has(id);
  }

  /** Remembers `id`, forgetting the oldest past the capacity; false when it was already remembered. */
  add(id: string): boolean {
    if (this.ids.has(id)) return false;
    if (this.ring.length < this.capacity) this.ring.push(id);
    else {
      this.ids.delete(this.ring[this.next]!);
      this.ring[this.next] = id;
      this.next = (this.next + 1) % this.capacity;
    }
    this.ids.add(id);
    return true;
  }
}

export interface LocalMetrics {
  /** This runtime's own registry: two runtimes in one process never share a series. */
  registry: Registry;
  /** Counts a bus entry's detail if it is a platform event whose id was not counted yet; returns whether it was. */
  record(detail: unknown): boolean;
  /** The registry in Prometheus text format, gauges read now. */
  scrape(): Promise<{ contentType: string; body: string }>;
  /** Detaches from the bus and releases what the gauges read through. Safe to call more than once. */
  stop(): Promise<void>;
}

export interface LocalMetricsOptions {
  /** Counted from, once per event id; absent, only record() feeds the counters. */
  bus?: Pick<LocalEventBus, 'onPublished'>;
  /** Absent: no queue, job or worker gauges. */
  gauges?: GaugeSources;
  /** prom-client's process and Node.js metrics; default true. */
  processMetrics?: boolean;
  seenCapacity?: number;
  log?: (message: string) => void;
  /** Called by stop(), after the bus is detached. */
  close?: () => Promise<void> | void;
}

/** The platform metrics in Prometheus form: counters and histograms from the bus's events, gauges read at scrape time. */
export function createLocalMetrics(options: LocalMetricsOptions = {}): LocalMetrics {
  const log = options.log ?? (() => {});
  const registry = new Registry();
  // Its GC observer and event-loop monitor cannot be stopped, but neither keeps the process alive.
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  const series = new Map<PlatformMetricName, { observe: (observation: MetricObservation) => void }>();
  for (const [metric, exposed] of Object.entries(PROMETHEUS_NAMES) as Array<[PlatformMetricName, { name: string; buckets?: readonly number[] }]>) {
    const declared = PLATFORM_METRICS[metric];
    const labelNames = declared.dimensions.map(labelOf);
    const labels = (observation: MetricObservation) => Object.fromEntries(declared.dimensions.map((d, i) => [labelNames[i]!, observation.dimensions[d] ?? 'unknown']));
    const config = { name: exposed.name, help: declared.description, labelNames, registers: [registry] };
    if (declared.unit === 'Milliseconds') {
      const histogram = new Histogram({ ...config, buckets: [...(exposed.buckets ?? DURATION_BUCKETS)] });
      series.set(metric, { observe: (o) => histogram.observe(labels(o), o.value / 1000) });
    } else {
      const counter = new Counter(config);
      series.set(metric, { observe: (o) => counter.inc(labels(o), o.value) });
    }
  }
  if (options.gauges) registerGauges(registry, options.gauges, log);

  const seen = new SeenIds(options.seenCapacity);
  const record = (detail: unknown): boolean => {
    const id = (detail as { id?: unknown } | null | undefined)?.id;
    // The id is checked before parsing, so a duplicate costs no validation.
    if (typeof id !== 'string' || seen.has(id)) return false;
    let event: EventEnvelope;
    try {
      event = parseEvent(detail);
    } catch {
      // Not a platform event (or not one this version knows): nothing to count, and its id is not remembered.
      return false;
    }
    seen.add(id);
    for (const observation of observationsOfEvent(event)) series.get(observation.metric)?.observe(observation);
    return true;
  };

  const detach = options.bus?.onPublished((entry) => {
    try {
      record(entry.detail);
    } catch (error) {
      log(`metrics: event ${entry.eventId} could not be counted: ${(error as Error).message}`);
    }
  });
  let stopped: Promise<void> | undefined;
  return {
    registry,
    record,
    scrape: async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
    stop: () =>
      (stopped ??= (async () => {
        detach?.();
        await options.close?.();
      })()),
  };
}

/**
 * The runtime's metrics: counted from the local bus, gauges over the runtime's SQS and DynamoDB Local. The gauges
 * read DynamoDB Local directly, not through a fault proxy: a scrape reports the platform, it is not part of it.
 */
export function startLocalMetrics(options: { backbone: EventBackbone; dynamoDbEndpoint: string; credentials: LocalCredentials; log: (message: string) => void }): LocalMetrics {
  // Its own client, to destroy on stop (a document client's destroy() leaves the client it wraps open); it only reads.
  const dynamo = new DynamoDBClient({ endpoint: options.dynamoDbEndpoint, region: LOCAL_REGION, credentials: options.credentials });
  const client = DynamoDBDocumentClient.from(dynamo);
  const [jobs, outbox, counters, workers] = [JOBS_TABLE, OUTBOX_TABLE, COUNTERS_TABLE, WORKERS_TABLE].map(localTableName) as [string, string, string, string];
  const jobStore = new DynamoJobStore(client, { jobs, outbox, counters });
  return createLocalMetrics({
    bus: options.backbone.bus,
    gauges: {
      sqs: options.backbone.sqs.client,
      queueUrls: options.backbone.queueUrls,
      jobCounters: () => jobStore.counters('global'),
      workers: new DynamoWorkerStore(client, { workers, outbox, counters }),
    },
    log: options.log,
    close: () => dynamo.destroy(),
  });
}
