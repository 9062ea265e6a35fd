import type { CloudWatchClient, MetricDataQuery, MetricDataResult } from '@aws-sdk/client-cloudwatch';
import { WORKER_CPU_METRIC, WORKER_MEMORY_METRIC } from '../../declarations/metrics.ts';
import type { InstanceMetricsQuery, InstanceMetricsSource, InstanceUtilization, SourceResult } from '../../core/fleet/metrics-ports.ts';
import { asLazyCloudWatch, type LazyCloudWatch } from '../lazy-clients.ts';

/** GetMetricData takes at most 500 queries per call; two per instance (CPU, memory). */
export const MAX_QUERIES_PER_CALL = 500;
const QUERIES_PER_INSTANCE = 2;
export const INSTANCES_PER_CALL = MAX_QUERIES_PER_CALL / QUERIES_PER_INSTANCE;


/** How many periods back to look for the latest datapoint: CloudWatch publishes EC2 metrics a few minutes late. */
const LOOKBACK_PERIODS = 3;

const errorOf = (error: unknown) => ({ code: (error as Error).name || 'Error', message: (error as Error).message });

/**
 * CPU (AWS/EC2) and memory (CWAgent) of many instances through GetMetricData, 250 instances per call. A call that
 * fails (throttled, for one) fails only its own instances; a query CloudWatch answers with an error status fails
 * only its instance. An instance with no datapoint in the window gets null, not an error: a fresh instance, or a
 * CloudWatch agent not running yet, has none.
 */
export class CloudWatchInstanceMetrics implements InstanceMetricsSource {
  private readonly cloudWatch: LazyCloudWatch;

  constructor(cloudWatch: CloudWatchClient | LazyCloudWatch) {
    this.cloudWatch = asLazyCloudWatch(cloudWatch);
  }

  async read(queries: readonly InstanceMetricsQuery[], now: Date): Promise<Map<string, SourceResult<InstanceUtilization>>> {
    const results = new Map<string, SourceResult<InstanceUtilization>>();
    for (let start = 0; start < queries.length; start += INSTANCES_PER_CALL) {
      const batch = queries.slice(start, start + INSTANCES_PER_CALL);
      try {
        const answers = await this.call(batch, now);
        batch.forEach((query, i) => results.set(query.instanceId, utilizationOf(answers.get(`cpu${i}`), answers.get(`mem${i}`))));
      } catch (error) {
        for (const query of batch) results.set(query.instanceId, { ok: false, error: errorOf(error) });
      }
    }
    return results;
  }

  /** One GetMetricData call, following NextToken (PartialData) until every query is complete. */
  private async call(batch: readonly InstanceMetricsQuery[], now: Date): Promise<Map<string, MetricDataResult>> {
    const longestPeriod = Math.max(...batch.map((q) => q.periodSeconds));
    const input = {
      MetricDataQueries: batch.flatMap((query, i) => [metricQuery(`cpu${i}`, WORKER_CPU_METRIC, query), metricQuery(`mem${i}`, WORKER_MEMORY_METRIC, query)]),
      StartTime: new Date(now.getTime() - LOOKBACK_PERIODS * longestPeriod * 1000),
      EndTime: now,
      ScanBy: 'TimestampDescending' as const,
    };
    const answers = new Map<string, MetricDataResult>();
    await this.cloudWatch.use(async (cloudWatch, sdk) => {
      let token: string | undefined;
      do {
        const output = await cloudWatch.send(new sdk.GetMetricDataCommand({ ...input, ...(token ? { NextToken: token } : {}) }));
        for (const result of output.MetricDataResults ?? []) {
          const previous = answers.get(result.Id!);
          // A later page continues the same series with older values: the first page holds the latest one.
          answers.set(result.Id!, previous ? { ...previous, StatusCode: result.StatusCode } : result);
        }
        token = output.NextToken;
      } while (token);
    });
    return answers;
  }
}

function metricQuery(id: string, metric: { namespace: string; metricName: string; dimension: string }, query: InstanceMetricsQuery): MetricDataQuery {
  return {
    Id: id,
    MetricStat: {
      Metric: { Namespace: metric.namespace, MetricName: metric.metricName, Dimensions: [{ Name: metric.dimension, Value: query.instanceId }] },
      Period: query.periodSeconds,
      Stat: 'Average',
    },
    ReturnData: true,
  };
}

function utilizationOf(cpu: MetricDataResult | undefined, memory: MetricDataResult | undefined): SourceResult<InstanceUtilization> {
  for (const result of [cpu, memory]) {
    if (!result) return { ok: false, error: { code: 'NoAnswer', message: 'GetMetricData returned no result for this query' } };
    if (result.StatusCode === 'InternalError' || result.StatusCode === 'Forbidden') {
      return { ok: false, error: { code: result.StatusCode, message: result.Messages?.map((m) => m.Value).join('; ') || `CloudWatch answered ${result.StatusCode}` } };
    }
  }
  return { ok: true, value: { cpuUtilization: latest(cpu!), memoryUtilization: latest(memory!) } };
}

/** Percent, rounded to a tenth; values come newest first (ScanBy TimestampDescending). */
function latest(result: MetricDataResult): number | null {
  const value = result.Values?.[0];
  return value === undefined ? null : Math.min(100, Math.max(0, Math.round(value * 10) / 10));
}
