import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { CloudWatchClient, GetMetricDataCommand, type GetMetricDataCommandInput } from '@aws-sdk/client-cloudwatch';
import { DescribeInstanceStatusCommand, EC2Client, MonitorInstancesCommand, UnmonitorInstancesCommand } from '@aws-sdk/client-ec2';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createApi } from '../../functions/api/app.ts';
import { CloudWatchInstanceMetrics } from '../../functions/adapters/cloudwatch/instance-metrics.ts';
import { DynamoJobStore } from '../../functions/adapters/dynamodb/job-store.ts';
import { TenantSecrets } from '../../functions/adapters/dynamodb/tenant-secrets.ts';
import { DynamoWorkerMetricsStore } from '../../functions/adapters/dynamodb/worker-metrics-store.ts';
import { DynamoWorkerStore } from '../../functions/adapters/dynamodb/worker-store.ts';
import { Ec2InstanceHealthSource, Ec2MonitoringControl } from '../../functions/adapters/ec2/instance-status.ts';
import { EventHistory } from '../../functions/adapters/dynamodb/event-history.ts';
import { WebhookDeliveries } from '../../functions/consumers/webhooks/deliveries.ts';
import type { EventEnvelope } from '../../functions/core/events.ts';
import type { Fleet } from '../../functions/core/fleet/fleet.ts';
import type { WorkerRecord } from '../../functions/core/fleet/worker.ts';
import type { PlatformMetricName } from '../../functions/declarations/metrics.ts';
import { httpEvent, root, testTenantRateLimit, type Caller } from '../support/api.ts';
import { createTestTables } from '../support/dynamodb.ts';
import { fleetFixture, identityOf, TEST_CLASS, type FleetFixture } from './fakes.ts';

const ec2 = mockClient(EC2Client);
const cloudWatch = mockClient(CloudWatchClient);
// Every EC2 and CloudWatch client of the process is mocked, and the next file in this worker shares the process.
afterAll(() => {
  ec2.restore();
  cloudWatch.restore();
});
const stats = { runningJobs: 1, freeSlots: 3, jobsDone: 12, uptimeSeconds: 600, loadAverage: [0.7, 0.5, 0.4] as [number, number, number], memoryRssBytes: 80_000_000 };
const throttled = () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });

/** CloudWatch answering every instance with these CPU and memory percentages. */
function cloudWatchSays(cpu: number, memory: number) {
  cloudWatch.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => ({
    MetricDataResults: input.MetricDataQueries!.map((q) => ({ Id: q.Id, StatusCode: 'Complete', Values: [q.Id!.startsWith('cpu') ? cpu : memory] })),
  }));
}

function ec2SaysHealthy() {
  ec2.on(DescribeInstanceStatusCommand).callsFake((input: { InstanceIds: string[] }) => ({
    InstanceStatuses: input.InstanceIds.map((id) => ({ InstanceId: id, InstanceState: { Name: 'running' }, SystemStatus: { Status: 'ok' }, InstanceStatus: { Status: 'ok' } })),
  }));
}

interface Fixture {
  f: FleetFixture;
  fleet: Fleet;
  /** The store the fleet writes (fleetFixture's own `store` has other tables). */
  store: DynamoWorkerStore;
  recorded: Array<{ metric: PlatformMetricName; value: number; dimensions: Readonly<Record<string, string>> }>;
  events(workerId: string): Promise<EventEnvelope[]>;
  call(method: string, path: string, caller?: Caller, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
}

/** A fleet over DynamoDB Local whose collector reads EC2 and CloudWatch through the real adapters, mocked at the SDK. */
async function fixture(): Promise<Fixture> {
  const { documentClient, tableNames } = await createTestTables();
  const recorded: Fixture['recorded'] = [];
  const tables = { workers: tableNames.workers, outbox: tableNames.outbox };
  const store = new DynamoWorkerStore(documentClient, { ...tables, counters: tableNames.counters });
  const f = await fleetFixture({
    store,
    metrics: {
      store: new DynamoWorkerMetricsStore(documentClient, tables),
      ec2: new Ec2InstanceHealthSource(new EC2Client({})),
      cloudWatch: new CloudWatchInstanceMetrics(new CloudWatchClient({})),
      monitoring: new Ec2MonitoringControl(new EC2Client({})),
      absentSourceReason: '',
      recordMetric: (metric, value, dimensions) => void recorded.push({ metric, value, dimensions }),
    },
  });
  const api = createApi({
    store: new DynamoJobStore(documentClient, tableNames),
    history: new EventHistory(documentClient, tableNames.outbox),
    deliveries: new WebhookDeliveries(documentClient, tableNames.webhookDeliveries),
    secrets: new TenantSecrets(documentClient, tableNames.tenants),
    clock: f.clock,
    logger: new Logger({ logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: 'ForgeflowTest' }),
    workers: f.fleet.workers,
    tenantRateLimit: testTenantRateLimit(documentClient, tableNames.counters),
  });
  return {
    f,
    fleet: f.fleet,
    store,
    recorded,
    async events(workerId) {
      const { Items = [] } = await documentClient.send(new ScanCommand({ TableName: tableNames.outbox, ConsistentRead: true }));
      return Items.filter((i) => i.subject === workerId)
        .map((i) => JSON.parse(String(i.envelope)) as EventEnvelope)
        .sort((a, b) => a.id.localeCompare(b.id));
    },
    async call(method, path, caller = root, body) {
      const result = await api(httpEvent(method, path, { caller, ...(body === undefined ? {} : { body }) }));
      return { status: result.statusCode, body: result.body ? JSON.parse(result.body as string) : {} };
    },
  };
}

/** A READY worker whose agent has sent one heartbeat with its figures. */
async function readyWorker(x: Fixture): Promise<WorkerRecord> {
  const created = await x.fleet.provisioning.create({ workerClass: 'default', requestedBy: 'test', correlationId: 'c' }, {});
  await x.fleet.provisioning.launch({ workerId: created.workerId });
  await x.fleet.provisioning.awaitAgent({ workerId: created.workerId, taskToken: 'token' });
  const ready = await x.fleet.provisioning.recordReady({ workerId: created.workerId, agentVersion: '1.0.0' });
  await x.fleet.agents.heartbeat(identityOf(ready), { jobIds: ['job_1'] }, stats);
  return (await x.store.get(ready.workerId))!;
}

const typesOf = (events: EventEnvelope[]) => events.map((e) => e.type);

describe('Metrics collector: three sources kept apart, on a schedule', () => {
  let x: Fixture;
  beforeEach(async () => {
    ec2.reset();
    cloudWatch.reset();
    x = await fixture();
  });

  it('writes each source in its own block, stamped with when it was read, each with its own event', async () => {
    const worker = await readyWorker(x);
    ec2SaysHealthy();
    cloudWatchSays(37.5, 52);
    x.f.clock.advance(5);
    const report = await x.fleet.collector!.collectClass('default', 'run-1');
    expect(report).toMatchObject({ workers: 1, written: 1, healthy: 1, sourceErrors: { ec2: 0, cloudWatch: 0, agent: 0 } });
    const stored = (await x.store.get(worker.workerId))!;
    const at = x.f.clock.now().toISOString();
    expect(stored.metrics).toEqual({
      ec2: { status: 'ok', instanceState: 'running', systemStatus: 'ok', instanceStatus: 'ok', scheduledEvents: [], checkedAt: at },
      cloudWatch: { status: 'ok', cpuUtilization: 37.5, memoryUtilization: 52, detailedMonitoring: false, periodSeconds: 300, collectedAt: at },
      agent: { status: 'ok', ...stats, agentVersion: '1.0.0', reportedAt: stored.agentReport!.reportedAt },
    });
    // A collection bumps no version (a concurrent state change never fails for it), and a state change keeps the blocks.
    expect(stored.version).toBe(worker.version);
    await x.fleet.removal.drain(worker.workerId, 'REQUESTED', false, 'c');
    expect((await x.store.get(worker.workerId))!.metrics).toEqual(stored.metrics);
    expect(typesOf(await x.events(worker.workerId))).toEqual(expect.arrayContaining(['WorkerEc2MetricsUpdated', 'WorkerCloudWatchMetricsUpdated', 'WorkerAgentMetricsUpdated']));
    expect(x.recorded).toContainEqual({ metric: 'FleetSize', value: 1, dimensions: { WorkerClass: 'default', State: 'READY' } });
    expect(x.recorded).toContainEqual({ metric: 'WorkersHealthy', value: 1, dimensions: { WorkerClass: 'default' } });
  });

  it('a throttled CloudWatch records its error in its own block while EC2 and agent data still get through', async () => {
    const worker = await readyWorker(x);
    ec2SaysHealthy();
    cloudWatch.on(GetMetricDataCommand).rejects(throttled());
    const report = await x.fleet.collector!.collectClass('default', 'run-1');
    expect(report.sourceErrors).toEqual({ ec2: 0, cloudWatch: 1, agent: 0 });
    const { metrics } = (await x.store.get(worker.workerId))!;
    expect(metrics!.cloudWatch).toMatchObject({ status: 'error', error: { code: 'ThrottlingException', message: 'Rate exceeded' } });
    expect(metrics!.ec2).toMatchObject({ status: 'ok', systemStatus: 'ok' });
    expect(metrics!.agent).toMatchObject({ status: 'ok', jobsDone: 12 });
    expect(x.recorded).toContainEqual({ metric: 'MetricsCollectionErrors', value: 1, dimensions: { WorkerClass: 'default', Source: 'cloudWatch' } });
  });

  it('an agent silent past its heartbeats is an agent error and not healthy; one of an older release, alive without figures, is', async () => {
    const worker = await readyWorker(x);
    ec2SaysHealthy();
    cloudWatchSays(10, 10);
    x.f.clock.advance((TEST_CLASS.heartbeatIntervalSeconds ?? 30) * 10);
    const older = await readyWorker(x);
    // An agent of an earlier release: its heartbeat carries no figures.
    const { agentReport: _report, ...withoutFigures } = older;
    await x.store.update(withoutFigures, { state: older.state, version: older.version });
    await x.fleet.agents.heartbeat(identityOf(older), { jobIds: [] });
    const report = await x.fleet.collector!.collectClass('default', 'run-1');
    expect(report.healthy).toBe(1);
    expect((await x.store.get(worker.workerId))!.metrics!.agent).toMatchObject({ status: 'error', error: { code: 'AGENT_SILENT' } });
    expect((await x.store.get(older.workerId))!.metrics!.agent).toMatchObject({ status: 'error', error: { code: 'AGENT_NOT_REPORTING' } });
  });

  it('raises a threshold alert on crossing, holds it within the hysteresis, and clears it below', async () => {
    const worker = await readyWorker(x);
    ec2SaysHealthy();
    const collect = async (cpu: number) => {
      cloudWatch.reset();
      cloudWatchSays(cpu, 40);
      x.f.clock.advance(300);
      await x.fleet.collector!.collectClass('default', `run-${cpu}`);
      return (await x.events(worker.workerId)).filter((e) => e.type.startsWith('WorkerThreshold'));
    };
    expect(await collect(89)).toEqual([]);
    const exceeded = await collect(96.5);
    expect(exceeded.map((e) => [e.type, e.data])).toEqual([['WorkerThresholdExceeded', expect.objectContaining({ metric: 'cpu', value: 96.5, threshold: 90 })]]);
    expect((await x.store.get(worker.workerId))!.alerts).toEqual({ cpu: expect.objectContaining({ value: 96.5, threshold: 90 }) });
    // 85 is under the threshold but within 10 points of it: still in breach, no flapping.
    expect(await collect(85)).toHaveLength(1);
    expect(await collect(97)).toHaveLength(1);
    const cleared = await collect(79);
    expect(cleared.map((e) => e.type)).toEqual(['WorkerThresholdExceeded', 'WorkerThresholdCleared']);
    expect(cleared[1]!.data).toMatchObject({ metric: 'cpu', value: 79, since: (exceeded[0]!.data as { since: string }).since });
    expect((await x.store.get(worker.workerId))!.alerts).toEqual({});
  });

  it('skips ended workers, and gives a booting worker EC2 only (CloudWatch has nothing for it yet)', async () => {
    const ready = await readyWorker(x);
    const booting = await x.fleet.provisioning.create({ workerClass: 'default', requestedBy: 'test', correlationId: 'c' }, {});
    await x.fleet.provisioning.launch({ workerId: booting.workerId });
    ec2SaysHealthy();
    cloudWatchSays(10, 10);
    await x.fleet.removal.terminateNow(ready.workerId, 'FORCED', 'test', { correlationId: 'c' });
    expect((await x.fleet.collector!.collectClass('default', 'run-1')).workers).toBe(0);
    expect((await x.store.get(ready.workerId))!.metrics).toBeUndefined();
    const refreshed = await x.fleet.collector!.collectWorker((await x.store.get(booting.workerId))!, 'refresh');
    expect(refreshed.metrics).toMatchObject({ ec2: { status: 'ok' }, cloudWatch: { status: 'not-applicable' }, agent: { status: 'not-applicable' } });
    expect(cloudWatch.commandCalls(GetMetricDataCommand)).toHaveLength(0);
  });
});

describe('POST /v1/workers/{id}/refresh and /monitoring', () => {
  let x: Fixture;
  const operator: Caller = { sub: 'olga', tenant: 'acme', groups: ['operator'] };
  const user: Caller = { sub: 'alice', tenant: 'acme' };
  beforeEach(async () => {
    ec2.reset();
    cloudWatch.reset();
    x = await fixture();
  });

  it('refresh: operators and admins collect a worker now and get fresh timestamps; users get 403; unknown ids 404', async () => {
    const worker = await readyWorker(x);
    ec2SaysHealthy();
    cloudWatchSays(20, 30);
    x.f.clock.advance(42);
    const now = x.f.clock.now().toISOString();
    const res = await x.call('POST', `/v1/workers/${worker.workerId}/refresh`, operator);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ workerId: worker.workerId, metrics: { ec2: { checkedAt: now }, cloudWatch: { collectedAt: now, cpuUtilization: 20 }, agent: { status: 'ok' } } });
    expect(res.body).not.toHaveProperty('agentReport');
    expect((await x.call('POST', `/v1/workers/${worker.workerId}/refresh`, root)).status).toBe(200);
    expect((await x.call('POST', `/v1/workers/${worker.workerId}/refresh`, user)).status).toBe(403);
    expect((await x.call('POST', `/v1/workers/w-${'0'.repeat(26)}/refresh`, operator)).body).toMatchObject({ code: 'WORKER_NOT_FOUND' });
  });

  it('monitoring: admins only; EC2 is asked, the state recorded with its event, and the cost told', async () => {
    const worker = await readyWorker(x);
    ec2.on(MonitorInstancesCommand).resolves({}).on(UnmonitorInstancesCommand).resolves({});
    expect((await x.call('POST', `/v1/workers/${worker.workerId}/monitoring`, operator, { enabled: true })).status).toBe(403);
    expect(ec2.commandCalls(MonitorInstancesCommand)).toHaveLength(0);
    expect((await x.call('POST', `/v1/workers/${worker.workerId}/monitoring`, root, { enabled: 'yes' })).status).toBe(400);
    const on = await x.call('POST', `/v1/workers/${worker.workerId}/monitoring`, root, { enabled: true });
    expect(on.status).toBe(200);
    expect(on.body).toMatchObject({ worker: { detailedMonitoring: true }, monitoring: { detailedMonitoring: true, metrics: 7, resolutionSeconds: 60, monthlyCostUsd: 2.1 } });
    expect(ec2.commandCalls(MonitorInstancesCommand)[0]!.args[0].input).toEqual({ InstanceIds: [worker.instanceId] });
    expect(typesOf(await x.events(worker.workerId))).toContain('WorkerMonitoringChanged');
    // The collector now reads 1-minute datapoints.
    cloudWatchSays(1, 1);
    ec2SaysHealthy();
    await x.fleet.collector!.collectClass('default', 'run');
    expect(cloudWatch.commandCalls(GetMetricDataCommand)[0]!.args[0].input.MetricDataQueries![0]!.MetricStat!.Period).toBe(60);
    const off = await x.call('POST', `/v1/workers/${worker.workerId}/monitoring`, root, { enabled: false });
    expect(off.body).toMatchObject({ worker: { detailedMonitoring: false }, monitoring: { monthlyCostUsd: 0 } });
    expect((await x.call('POST', `/v1/workers/w-${'0'.repeat(26)}/monitoring`, root, { enabled: true })).status).toBe(404);
  });
});
