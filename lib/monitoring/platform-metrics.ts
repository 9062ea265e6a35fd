import type { Duration } from 'aws-cdk-lib';
import { MathExpression, Metric } from 'aws-cdk-lib/aws-cloudwatch';
import { METRICS_NAMESPACE, PLATFORM_METRICS, type PlatformMetricName } from '../../functions/declarations/metrics.ts';

/**
 * The dimension values of one declared metric: exactly its declared dimension names, checked by the compiler. A
 * CloudWatch metric is identified by its full dimension set, so a metric read with one dimension more or less than
 * the handlers emit would be another metric, and stay empty.
 */
export type PlatformDimensions<N extends PlatformMetricName> = Readonly<Record<(typeof PLATFORM_METRICS)[N]['dimensions'][number], string>>;

export interface PlatformMetricOptions {
  readonly statistic: string;
  readonly period: Duration;
  readonly label?: string;
}

/**
 * One declared metric. No `unit`: on an alarm, a unit filters datapoints by the unit they were emitted with, and a
 * mismatch there would leave the alarm without data instead of failing anywhere visible.
 */
export function platformMetric<N extends PlatformMetricName>(name: N, dimensions: PlatformDimensions<N>, options: PlatformMetricOptions): Metric {
  return new Metric({ namespace: METRICS_NAMESPACE, metricName: name, dimensionsMap: { ...dimensions }, ...options });
}

/** The SEARCH expression over every dimension value of a declared metric: `{Forgeflow,<its dimensions>} MetricName="…"`. */
export function searchTerm(name: PlatformMetricName, statistic: string, period: Duration): string {
  const schema = [METRICS_NAMESPACE, ...PLATFORM_METRICS[name].dimensions].join(',');
  return `SEARCH('{${schema}} MetricName="${name}"', '${statistic}', ${period.toSeconds()})`;
}

/**
 * A graph line per dimension combination of a declared metric (dashboards only: alarms cannot use SEARCH). Only the
 * combinations that have data exist, so a new worker class or failure reason appears without a deploy.
 */
export function platformSearch(name: PlatformMetricName, statistic: string, period: Duration, label?: string): MathExpression {
  return new MathExpression({ expression: searchTerm(name, statistic, period), usingMetrics: {}, period, label });
}

/** The sum over every dimension combination of a declared metric, as one line. */
export function platformTotal(name: PlatformMetricName, period: Duration, label: string = name): MathExpression {
  return new MathExpression({ expression: `SUM(${searchTerm(name, 'Sum', period)})`, usingMetrics: {}, period, label });
}

/** A dynamic label naming a dimension's value (CloudWatch fills it in per line). */
export const dimensionLabel = (dimension: string) => `\${PROP('Dim.${dimension}')}`;
