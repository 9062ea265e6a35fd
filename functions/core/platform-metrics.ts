import type { PlatformMetricName } from '../declarations/metrics.ts';
import type { EventEnvelope } from './events.ts';

/** One value of one declared metric, with the dimension values its declaration names. */
export interface MetricObservation {
  metric: PlatformMetricName;
  value: number;
  dimensions: Readonly<Record<string, string>>;
}

const ms = (from: string, to: string) => Math.max(0, Date.parse(to) - Date.parse(from));

/**
 * The job and fleet metrics an event stands for. Pure, and fed each event exactly once (by the relay, for the
 * records before a batch's first failure, in AWS; after de-duplication locally), so the counts equal the outcomes. Events written
 * before `createdAt` was carried yield no latency figures, never wrong ones.
 */
export function observationsOfEvent(event: EventEnvelope): MetricObservation[] {
  const data = event.data as Record<string, unknown> & { workerClass?: string; class?: string; priority?: string; createdAt?: string };
  const workerClass = String(data.workerClass ?? data.class ?? 'unknown');
  const byPriority = { WorkerClass: workerClass, Priority: String(data.priority) };
  const reason = (data.failure as { reason?: string } | undefined)?.reason ?? 'UNKNOWN';
  const count = (metric: PlatformMetricName, dimensions: Record<string, string>): MetricObservation => ({ metric, value: 1, dimensions });
  const runDuration = (): MetricObservation[] => {
    const durationMs = (data.result as { durationMs?: number } | undefined)?.durationMs;
    return durationMs === undefined ? [] : [{ metric: 'RunDuration', value: durationMs, dimensions: { WorkerClass: workerClass } }];
  };
  switch (event.type) {
    case 'JobQueued':
      return data.reason === 'submitted' ? [count('JobsSubmitted', byPriority)] : [];
    case 'JobRunning': {
      const first = data.run === 1 && data.attempts === 1 && data.createdAt !== undefined;
      return [count('JobsStarted', byPriority), ...(first ? [{ metric: 'QueueWaitTime' as const, value: ms(data.createdAt!, event.time), dimensions: byPriority }] : [])];
    }
    case 'JobSucceeded':
      return [
        count('JobsSucceeded', byPriority),
        ...runDuration(),
        ...(data.createdAt ? [{ metric: 'EndToEndLatency' as const, value: ms(data.createdAt, event.time), dimensions: byPriority }] : []),
      ];
    case 'JobFailed':
      return [count('JobsFailed', { WorkerClass: workerClass, Reason: reason }), ...runDuration()];
    case 'JobRetryScheduled':
      return [count('JobsRetried', { WorkerClass: workerClass, Reason: reason })];
    case 'JobDeadLettered':
      return [count('JobsDeadLettered', { WorkerClass: workerClass, Reason: reason })];
    case 'JobCancelled':
      return [count('JobsCancelled', { WorkerClass: workerClass })];
    case 'WorkerReady':
      return [count('WorkersProvisioned', { WorkerClass: workerClass })];
    case 'WorkerProvisioningFailed':
      return [count('WorkerProvisioningFailures', { WorkerClass: workerClass, Reason: reason })];
    case 'WorkerThresholdExceeded':
      return [count('WorkerThresholdAlerts', { WorkerClass: workerClass, Metric: String(data.metric) })];
    default:
      return [];
  }
}

/** Where the domain records a declared metric it measures itself (the collector's gauges); handlers emit it as EMF. */
export type MetricsRecorder = (metric: PlatformMetricName, value: number, dimensions: Readonly<Record<string, string>>) => void;
