import { CloudWatchClient, GetMetricDataCommand, type GetMetricDataCommandInput } from '@aws-sdk/client-cloudwatch';
import { DescribeInstanceStatusCommand, EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { CloudWatchInstanceMetrics } from '../functions/adapters/cloudwatch/instance-metrics.ts';
import { Ec2InstanceHealthSource } from '../functions/adapters/ec2/instance-status.ts';
import { classLookup } from '../functions/core/fleet/fleet.ts';
import { FleetContext } from '../functions/core/fleet/fleet-context.ts';
import { WorkerMetricsCollector } from '../functions/core/fleet/metrics-collector.ts';
import type { WorkerMetricsStore, WorkerMetricsUpdate } from '../functions/core/fleet/metrics-ports.ts';
import type { ListWorkersQuery, WorkerStore } from '../functions/core/fleet/ports.ts';
import { AgentDirective, type WorkerRecord } from '../functions/core/fleet/worker.ts';
import { DETAILED_MONITORING_COST, GET_METRIC_DATA_USD_PER_1000_METRICS } from '../functions/declarations/metrics.ts';
import { workerClassNamed } from '../functions/declarations/worker-classes.ts';
import { PRICE } from './prices.ts';
import { round } from './stats.ts';

const HOURS_PER_MONTH = 730;

/** READY workers with a fresh heartbeat each, held in memory: the bench counts calls, not DynamoDB's speed. */
function memoryStores(count: number) {
  const now = new Date().toISOString();
  const stats = { runningJobs: 2, freeSlots: 2, jobsDone: 10, uptimeSeconds: 3600, loadAverage: [1, 1, 1] as [number, number, number], memoryRssBytes: 1e8 };
  const workers: WorkerRecord[] = Array.from({ length: count }, (_, i) => ({
    workerId: `w-${String(i).padStart(26, '0')}`, class: 'default', state: 'READY', version: 3, region: 'us-east-1', instanceId: `i-${(0x10000000 + i).toString(16).padStart(17, '0')}`,
    amiName: 'al2023', slots: 4, runningJobs: 2, runningJobIds: [], directive: AgentDirective.CONTINUE, createdAt: now, updatedAt: now, requestedBy: 'scaler',
    agentReport: { stats, agentVersion: '1', reportedAt: now },
  }));
  const writes: WorkerMetricsUpdate[] = [];
  const list = async (query: ListWorkersQuery) => {
    const matching = workers.filter((w) => w.state === query.state);
    const start = Number(query.cursor ?? 0);
    const items = matching.slice(start, start + query.limit);
    return start + query.limit < matching.length ? { items, nextCursor: String(start + query.limit) } : { items };
  };
  const store = { list, get: async (id: string) => workers.find((w) => w.workerId === id) } as unknown as WorkerStore;
  const metricsStore: WorkerMetricsStore = { recordMetrics: async (_id, update) => (writes.push(update), true), countByState: async () => 0 };
  return { store, metricsStore, writes };
}

/** One scheduled collection of `workers` READY workers through the real collector and adapters, with EC2 and CloudWatch stubbed. */
export async function benchMonitoring(options: { workers: number }) {
  const ec2 = mockClient(EC2Client);
  const cloudWatch = mockClient(CloudWatchClient);
  ec2.on(DescribeInstanceStatusCommand).callsFake((input: { MaxResults?: number; NextToken?: string; InstanceIds?: string[] }) => {
    const start = Number(input.NextToken ?? 0);
    const ids = input.InstanceIds ?? Array.from({ length: Math.min(input.MaxResults!, options.workers - start) }, (_, i) => `i-${(0x10000000 + start + i).toString(16).padStart(17, '0')}`);
    const next = start + ids.length;
    return { InstanceStatuses: ids.map((id) => ({ InstanceId: id, InstanceState: { Name: 'running' }, SystemStatus: { Status: 'ok' }, InstanceStatus: { Status: 'ok' } })), ...(input.InstanceIds || next >= options.workers ? {} : { NextToken: String(next) }) };
  });
  cloudWatch.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => ({ MetricDataResults: input.MetricDataQueries!.map((q) => ({ Id: q.Id, StatusCode: 'Complete', Values: [42] })) }));
  const { store, metricsStore, writes } = memoryStores(options.workers);
  const collector = new WorkerMetricsCollector({
    fleet: new FleetContext(store, { now: () => new Date() }, classLookup('aws')),
    store: metricsStore,
    ec2: new Ec2InstanceHealthSource(new EC2Client({ region: 'us-east-1' })),
    cloudWatch: new CloudWatchInstanceMetrics(new CloudWatchClient({ region: 'us-east-1' })),
    absentSourceReason: '',
    recordMetric: () => undefined,
  });
  const started = performance.now();
  await collector.collectClass('default', 'bench');
  const ms = performance.now() - started;
  const describeCalls = ec2.commandCalls(DescribeInstanceStatusCommand).length;
  const metricCalls = cloudWatch.commandCalls(GetMetricDataCommand);
  const metricsRequested = metricCalls.reduce((sum, c) => sum + c.args[0].input.MetricDataQueries!.length, 0);
  const events = writes.reduce((sum, w) => sum + w.events.length, 0);
  // One TransactWriteItems per worker: its update plus one outbox put per event, 2 WRU per item.
  const wru = writes.reduce((sum, w) => sum + (1 + w.events.length) * 2, 0);
  ec2.restore();
  cloudWatch.restore();
  const runsPerMonth = (HOURS_PER_MONTH * 60) / workerClassNamed('default', 'aws').metricsIntervalMinutes;
  const perWorkerMonth = {
    getMetricData: (metricsRequested / options.workers) * runsPerMonth * (GET_METRIC_DATA_USD_PER_1000_METRICS / 1000),
    events: (events / options.workers) * runsPerMonth * PRICE.event,
    dynamodb: (wru / options.workers) * runsPerMonth * PRICE.wru,
  };
  return {
    workers: options.workers,
    ms: round(ms),
    describeInstanceStatusCalls: describeCalls,
    getMetricDataCalls: metricCalls.length,
    metricsRequested,
    transactions: writes.length,
    events,
    wru,
    usdPerWorkerMonth: Object.fromEntries(Object.entries(perWorkerMonth).map(([k, v]) => [k, round(v * 1000) / 1000])),
    detailedMonitoringUsdPerWorkerMonth: DETAILED_MONITORING_COST.usdPerInstanceMonth,
  };
}
