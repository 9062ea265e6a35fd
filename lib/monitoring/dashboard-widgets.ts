import { Duration } from 'aws-cdk-lib';
import { GraphWidget, MathExpression, Stats, TextWidget, type IMetric, type IWidget } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { MetricDimension, WORKER_CPU_METRIC, WORKER_MEMORY_METRIC } from '../../functions/declarations/metrics.ts';
import type { DispatchQueue } from './job-alarms.ts';
import type { LabeledQueue } from './pipeline-alarms.ts';
import { dimensionLabel, platformMetric, platformSearch, platformTotal } from './platform-metrics.ts';

/** The dashboard's resolution: fine enough to see an incident start, coarse enough for a day on one screen. */
export const DASHBOARD_PERIOD = Duration.minutes(5);
const period = DASHBOARD_PERIOD;

export interface Labeled<T> {
  readonly label: string;
  readonly resource: T;
}

const graph = (title: string, left: IMetric[], width = 8) => new GraphWidget({ title, left, width, height: 6, period });
export const heading = (text: string) => new TextWidget({ markdown: `### ${text}`, width: 24, height: 1 });

/** A line per dimension combination of an AWS metric, for resources that come and go (EC2 instances). */
const awsSearch = (namespace: string, dimension: string, metricName: string, statistic: string) =>
  new MathExpression({
    expression: `SEARCH('{${namespace},${dimension}} MetricName="${metricName}"', '${statistic}', ${period.toSeconds()})`,
    usingMetrics: {},
    period,
    label: dimensionLabel(dimension),
  });

export function jobWidgets(): IWidget[] {
  return [
    graph('Job throughput', [platformTotal('JobsSubmitted', period), platformTotal('JobsStarted', period), platformTotal('JobsSucceeded', period)]),
    graph('Jobs failed by reason', [platformSearch('JobsFailed', Stats.SUM, period, `${dimensionLabel(MetricDimension.WORKER_CLASS)} ${dimensionLabel(MetricDimension.REASON)}`)]),
    graph('End-to-end latency p99 (ms)', [
      platformSearch('EndToEndLatency', Stats.p(99), period, `${dimensionLabel(MetricDimension.WORKER_CLASS)}/${dimensionLabel(MetricDimension.PRIORITY)}`),
    ]),
  ];
}

export function dispatchWidgets(queues: readonly DispatchQueue[]): IWidget[] {
  const name = (q: DispatchQueue) => `${q.workerClass}/${q.priority}`;
  return [
    graph('Dispatch queue depth (ApproximateNumberOfMessagesVisible)', queues.map((q) => q.queue.metricApproximateNumberOfMessagesVisible({ period, statistic: Stats.MAXIMUM, label: name(q) })), 12),
    graph('Dispatch queue oldest message age (s)', queues.map((q) => q.queue.metricApproximateAgeOfOldestMessage({ period, statistic: Stats.MAXIMUM, label: name(q) })), 12),
  ];
}

export function sagaWidgets(jobSaga: IStateMachine, provisioning: IStateMachine): IWidget[] {
  const executions = (machine: IStateMachine) => [
    machine.metricStarted({ period, statistic: Stats.SUM, label: 'Started' }),
    machine.metricFailed({ period, statistic: Stats.SUM, label: 'Failed' }),
    machine.metricTimedOut({ period, statistic: Stats.SUM, label: 'Timed out' }),
  ];
  return [graph('Job saga executions', executions(jobSaga), 12), graph('Worker provisioning executions', executions(provisioning), 12)];
}

export function pipelineWidgets(relay: IFunction, deadLetterQueues: readonly LabeledQueue[]): IWidget[] {
  const count = (name: 'EventsRelayed' | 'RelayFailures' | 'OptimisticPublishAttempts' | 'OptimisticPublishFailures') =>
    platformMetric(name, {}, { statistic: Stats.SUM, period, label: name });
  return [
    graph('Relay IteratorAge and OutboxLag (ms)', [
      relay.metric('IteratorAge', { period, statistic: Stats.MAXIMUM, label: 'IteratorAge max' }),
      platformMetric('OutboxLag', {}, { statistic: Stats.p(99), period, label: 'OutboxLag p99' }),
    ]),
    graph('Relay and optimistic publishes', [count('EventsRelayed'), count('RelayFailures'), count('OptimisticPublishAttempts'), count('OptimisticPublishFailures')]),
    graph('Dead-letter queues', deadLetterQueues.map((q) => q.queue.metricApproximateNumberOfMessagesVisible({ period, statistic: Stats.MAXIMUM, label: q.label }))),
  ];
}

export function lambdaWidgets(functions: readonly Labeled<IFunction>[]): IWidget[] {
  const each = (metric: (fn: IFunction, label: string) => IMetric) => functions.map(({ label, resource }) => metric(resource, label));
  return [
    graph('Lambda errors', each((fn, label) => fn.metricErrors({ period, statistic: Stats.SUM, label }))),
    graph('Lambda throttles', each((fn, label) => fn.metricThrottles({ period, statistic: Stats.SUM, label }))),
    graph('Lambda duration p99 (ms)', each((fn, label) => fn.metricDuration({ period, statistic: Stats.p(99), label }))),
  ];
}

/**
 * ThrottledRequests is emitted per table and operation; one SEARCH per table sums whatever operations throttled,
 * so an operation the adapters start using later is counted without a change here.
 */
export function tableWidgets(tables: readonly Labeled<ITable>[]): IWidget[] {
  const throttledRequests = ({ label, resource }: Labeled<ITable>) =>
    new MathExpression({
      expression: `SUM(SEARCH('{AWS/DynamoDB,Operation,TableName} MetricName="ThrottledRequests" TableName="${resource.tableName}"', 'Sum', ${period.toSeconds()}))`,
      usingMetrics: {},
      period,
      label,
    });
  return [
    graph('DynamoDB ThrottledRequests', tables.map(throttledRequests)),
    graph('DynamoDB ReadThrottleEvents', tables.map(({ label, resource }) => resource.metric('ReadThrottleEvents', { period, statistic: Stats.SUM, label }))),
    graph('DynamoDB WriteThrottleEvents', tables.map(({ label, resource }) => resource.metric('WriteThrottleEvents', { period, statistic: Stats.SUM, label }))),
  ];
}

/**
 * Per-worker figures come from SEARCH: a custom metric per worker would be billed per instance ever launched, and
 * the instances of a scale-to-zero fleet come and go. The searches are account-wide (instances carry no stack
 * dimension); the worker API maps an instance id to its worker.
 */
export function fleetWidgets(): IWidget[] {
  return [
    graph('Fleet size by state', [
      platformSearch('FleetSize', Stats.AVERAGE, period, `${dimensionLabel(MetricDimension.WORKER_CLASS)} ${dimensionLabel(MetricDimension.STATE)}`),
      platformSearch('WorkersHealthy', Stats.AVERAGE, period, `${dimensionLabel(MetricDimension.WORKER_CLASS)} healthy`),
    ]),
    ...[WORKER_CPU_METRIC, WORKER_MEMORY_METRIC].map((m) =>
      graph(`Worker ${m === WORKER_CPU_METRIC ? 'CPU' : 'memory'} % (${m.namespace} ${m.metricName})`, [awsSearch(m.namespace, m.dimension, m.metricName, Stats.AVERAGE)]),
    ),
  ];
}
