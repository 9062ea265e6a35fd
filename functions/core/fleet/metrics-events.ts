import { workerEvent, type EventContext, type EventEnvelope } from '../events.ts';
import type { ThresholdChange } from './thresholds.ts';
import type { WorkerRecord } from './worker.ts';
import type { AgentMetrics, CloudWatchMetrics, Ec2Metrics, WorkerMetrics } from './worker-metrics.ts';

type Block = Ec2Metrics | CloudWatchMetrics | AgentMetrics;

/** A block that says `not-applicable` for the same reason as the one stored: writing it again tells nobody anything. */
export function isUnchangedNotApplicable(stored: Block | undefined, fresh: Block | undefined): boolean {
  return stored?.status === 'not-applicable' && fresh?.status === 'not-applicable' && stored.message === fresh.message;
}

/** One event per block written (each source its own type) and one per threshold crossed or cleared. */
export function composeEvents(worker: WorkerRecord, metrics: WorkerMetrics, changes: readonly ThresholdChange[], context: EventContext): EventEnvelope[] {
  const events: EventEnvelope[] = [];
  const at = worker.state;
  if (metrics.ec2) events.push(workerEvent('WorkerEc2MetricsUpdated', worker, at, { metrics: metrics.ec2 }, context));
  if (metrics.cloudWatch) events.push(workerEvent('WorkerCloudWatchMetricsUpdated', worker, at, { metrics: metrics.cloudWatch }, context));
  if (metrics.agent) events.push(workerEvent('WorkerAgentMetricsUpdated', worker, at, { metrics: metrics.agent }, context));
  for (const change of changes) {
    const alert = { metric: change.metric, value: change.value, threshold: change.threshold, since: change.since };
    events.push(
      change.kind === 'exceeded'
        ? workerEvent('WorkerThresholdExceeded', worker, at, alert, context)
        : workerEvent('WorkerThresholdCleared', worker, at, { ...alert, clearedAt: change.clearedAt }, context),
    );
  }
  return events;
}
