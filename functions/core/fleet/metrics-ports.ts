import type { EventEnvelope } from '../events.ts';
import type { ProcessStats, SourceError, WorkerAlerts, WorkerMetrics } from './worker-metrics.ts';

/**
 * The collector's ports. EC2's DescribeInstanceStatus and CloudWatch's GetMetricData implement the first two in
 * AWS; the local runtime has neither (its workers are processes) and reads /proc instead.
 */
export interface InstanceHealth {
  instanceState: string;
  systemStatus: string;
  instanceStatus: string;
  scheduledEvents: Array<{ code: string; notBefore?: string; description?: string }>;
}

/** One instance's answer: its figures, or why this source could not give them. */
export type SourceResult<T> = { ok: true; value: T } | { ok: false; error: SourceError };

export interface InstanceHealthSource {
  /** Every given instance's status checks, batched as the API allows. An instance EC2 does not know gets an error. */
  describe(instanceIds: readonly string[]): Promise<Map<string, SourceResult<InstanceHealth>>>;
}

export interface InstanceUtilization {
  /** Percent; null when CloudWatch has no datapoint in the window. */
  cpuUtilization: number | null;
  memoryUtilization: number | null;
}

export interface InstanceMetricsQuery {
  instanceId: string;
  /** 60 with detailed monitoring, 300 without: the period of the datapoints that exist. */
  periodSeconds: number;
}

export interface InstanceMetricsSource {
  /** The latest CPU and memory datapoint of each instance, batched as the API allows. */
  read(queries: readonly InstanceMetricsQuery[], now: Date): Promise<Map<string, SourceResult<InstanceUtilization>>>;
}

/** The local runtime's stand-in for CloudWatch: the agent process tree's CPU and memory, from /proc. */
export interface ProcessStatsSource {
  read(instanceId: string): Promise<ProcessStats | undefined>;
}

/** Switches EC2 detailed (1-minute) monitoring; idempotent. */
export interface MonitoringControl {
  setDetailedMonitoring(instanceId: string, enabled: boolean): Promise<void>;
}

/** What one collection writes for one worker: the blocks it read, the alerts as they now stand, and the events. */
export interface WorkerMetricsUpdate {
  metrics: WorkerMetrics;
  /** Absent: the alerts did not change and are not written. */
  alerts?: WorkerAlerts;
  events: EventEnvelope[];
}

export interface WorkerMetricsStore {
  /**
   * Writes the blocks given (each on its own attribute, so one source never overwrites another's block) and the
   * events in one transaction, without bumping the worker's version: a collection must never make a concurrent
   * state change fail. Returns false when the worker ended meanwhile (nothing is written).
   */
  recordMetrics(workerId: string, update: WorkerMetricsUpdate): Promise<boolean>;
  /** How many workers of a class are in a state, for the fleet-size gauge. */
  countByState(workerClass: string, state: string): Promise<number>;
}
