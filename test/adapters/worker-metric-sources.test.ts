import { CloudWatchClient, GetMetricDataCommand, type GetMetricDataCommandInput, type MetricDataResult } from '@aws-sdk/client-cloudwatch';
import { DescribeInstanceStatusCommand, EC2Client, MonitorInstancesCommand, UnmonitorInstancesCommand, type InstanceStatus } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { CloudWatchInstanceMetrics, MAX_QUERIES_PER_CALL } from '../../functions/adapters/cloudwatch/instance-metrics.ts';
import { Ec2InstanceHealthSource, Ec2MonitoringControl, MAX_IDS_PER_CALL, MAX_RESULTS_PER_PAGE } from '../../functions/adapters/ec2/instance-status.ts';

const ids = (n: number) => Array.from({ length: n }, (_, i) => `i-${(0x10000000 + i).toString(16).padStart(17, '0')}`);

/** A DescribeInstanceStatus entry as EC2 returns it (IncludeAllInstances: a running instance with its checks). */
function status(instanceId: string, overrides: Partial<InstanceStatus> = {}): InstanceStatus {
  return {
    InstanceId: instanceId,
    AvailabilityZone: 'us-east-1a',
    InstanceState: { Code: 16, Name: 'running' },
    SystemStatus: { Status: 'ok', Details: [{ Name: 'reachability', Status: 'passed' }] },
    InstanceStatus: { Status: 'ok', Details: [{ Name: 'reachability', Status: 'passed' }] },
    ...overrides,
  };
}

const throttled = () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });

describe('EC2 status checks (DescribeInstanceStatus)', () => {
  const ec2 = mockClient(EC2Client);
  beforeEach(() => ec2.reset());
  // Test files share a process (the unit project does not isolate them): the stub must not outlive this file.
  afterAll(() => ec2.restore());

  it('reads up to 100 workers in one call naming them, with state, both checks and scheduled events', async () => {
    const [a, b, gone] = ids(3);
    const notBefore = new Date('2026-12-03T02:00:00Z');
    ec2.on(DescribeInstanceStatusCommand).resolves({
      InstanceStatuses: [
        status(a!, { Events: [{ Code: 'system-maintenance', NotBefore: notBefore, Description: 'scheduled host maintenance' }] }),
        status(b!, { InstanceStatus: { Status: 'impaired' }, SystemStatus: { Status: 'initializing' } }),
      ],
    });
    const health = await new Ec2InstanceHealthSource(new EC2Client({})).describe([a!, b!, gone!]);
    const call = ec2.commandCalls(DescribeInstanceStatusCommand)[0]!.args[0].input;
    expect(call).toEqual({ InstanceIds: [a, b, gone], IncludeAllInstances: true });
    expect(health.get(a!)).toEqual({ ok: true, value: { instanceState: 'running', systemStatus: 'ok', instanceStatus: 'ok', scheduledEvents: [{ code: 'system-maintenance', notBefore: notBefore.toISOString(), description: 'scheduled host maintenance' }] } });
    expect(health.get(b!)).toMatchObject({ ok: true, value: { systemStatus: 'initializing', instanceStatus: 'impaired' } });
    expect(health.get(gone!)).toMatchObject({ ok: false, error: { code: 'INSTANCE_NOT_FOUND' } });
  });

  it('reads 1,200 workers in pages of 1,000 (no ids: EC2 allows 100 named ids per call), keeping ours only', async () => {
    const ours = ids(1200);
    const theirs = ids(1300).slice(1200);
    const all = [...theirs.slice(0, 50), ...ours, ...theirs.slice(50)].map((id) => status(id));
    ec2.on(DescribeInstanceStatusCommand).callsFake((input: { MaxResults?: number; NextToken?: string }) => {
      const start = Number(input.NextToken ?? 0);
      const page = all.slice(start, start + input.MaxResults!);
      return { InstanceStatuses: page, ...(start + page.length < all.length ? { NextToken: String(start + page.length) } : {}) };
    });
    const health = await new Ec2InstanceHealthSource(new EC2Client({})).describe(ours);
    const calls = ec2.commandCalls(DescribeInstanceStatusCommand).map((c) => c.args[0].input);
    expect(calls).toHaveLength(2);
    for (const input of calls) {
      expect(input.InstanceIds).toBeUndefined();
      expect(input.MaxResults).toBeLessThanOrEqual(MAX_RESULTS_PER_PAGE);
      expect(input.IncludeAllInstances).toBe(true);
    }
    expect(ours.length).toBeGreaterThan(MAX_IDS_PER_CALL);
    expect(health.size).toBe(1200);
    expect([...health.values()].every((h) => h.ok)).toBe(true);
    expect(theirs.some((id) => health.has(id))).toBe(false);
  });

  it('a page that fails (throttled) fails only the instances it had not yet reported', async () => {
    const ours = ids(1500);
    ec2
      .on(DescribeInstanceStatusCommand)
      .resolvesOnce({ InstanceStatuses: ours.slice(0, 1000).map((id) => status(id)), NextToken: 'page-2' })
      .rejectsOnce(throttled());
    const health = await new Ec2InstanceHealthSource(new EC2Client({})).describe(ours);
    expect([...health.values()].filter((h) => h.ok)).toHaveLength(1000);
    expect(health.get(ours[1400]!)).toEqual({ ok: false, error: { code: 'ThrottlingException', message: 'Rate exceeded' } });
  });

  it('switches detailed monitoring with MonitorInstances and UnmonitorInstances', async () => {
    ec2.on(MonitorInstancesCommand).resolves({}).on(UnmonitorInstancesCommand).resolves({});
    const control = new Ec2MonitoringControl(new EC2Client({}));
    await control.setDetailedMonitoring('i-0123456789abcdef0', true);
    await control.setDetailedMonitoring('i-0123456789abcdef0', false);
    expect(ec2.commandCalls(MonitorInstancesCommand)[0]!.args[0].input).toEqual({ InstanceIds: ['i-0123456789abcdef0'] });
    expect(ec2.commandCalls(UnmonitorInstancesCommand)).toHaveLength(1);
  });
});

/** GetMetricData's answer to a call: each query's latest values, newest first, as CloudWatch returns them. */
function answer(input: GetMetricDataCommandInput, value: (id: string, instanceId: string) => number | undefined, status: (id: string) => MetricDataResult['StatusCode'] = () => 'Complete') {
  return {
    MetricDataResults: input.MetricDataQueries!.map((q) => {
      const instanceId = q.MetricStat!.Metric!.Dimensions![0]!.Value!;
      const v = value(q.Id!, instanceId);
      return { Id: q.Id, Label: q.MetricStat!.Metric!.MetricName, StatusCode: status(q.Id!), Timestamps: v === undefined ? [] : [new Date()], Values: v === undefined ? [] : [v, 3] };
    }),
  };
}

describe('CloudWatch CPU and memory (GetMetricData)', () => {
  const cw = mockClient(CloudWatchClient);
  beforeEach(() => cw.reset());
  afterAll(() => cw.restore());
  const now = new Date('2026-11-30T10:00:00Z');

  it('reads 1,200 workers in 5 calls of at most 500 queries: AWS/EC2 CPUUtilization and CWAgent mem_used_percent per instance', async () => {
    const instances = ids(1200);
    cw.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => answer(input, (id) => (id.startsWith('cpu') ? 42.44 : 61.06)));
    const results = await new CloudWatchInstanceMetrics(new CloudWatchClient({})).read(instances.map((instanceId) => ({ instanceId, periodSeconds: 300 })), now);
    const calls = cw.commandCalls(GetMetricDataCommand).map((c) => c.args[0].input);
    expect(calls).toHaveLength(5);
    for (const input of calls) expect(input.MetricDataQueries!.length).toBeLessThanOrEqual(MAX_QUERIES_PER_CALL);
    const first = calls[0]!.MetricDataQueries!;
    expect(first[0]!.MetricStat).toMatchObject({ Metric: { Namespace: 'AWS/EC2', MetricName: 'CPUUtilization', Dimensions: [{ Name: 'InstanceId', Value: instances[0] }] }, Period: 300, Stat: 'Average' });
    expect(first[1]!.MetricStat).toMatchObject({ Metric: { Namespace: 'CWAgent', MetricName: 'mem_used_percent' } });
    expect(calls[0]!.ScanBy).toBe('TimestampDescending');
    expect(calls[0]!.StartTime!.getTime()).toBe(now.getTime() - 3 * 300 * 1000);
    expect(results.size).toBe(1200);
    expect(results.get(instances[1199]!)).toEqual({ ok: true, value: { cpuUtilization: 42.4, memoryUtilization: 61.1 } });
  });

  it('one throttled call fails only its 250 instances; a query answered with an error fails only its instance; no datapoint is null', async () => {
    const instances = ids(600);
    let call = 0;
    cw.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => {
      call += 1;
      if (call === 2) throw throttled();
      return answer(
        input,
        (id, instanceId) => (instanceId === instances[3] && id.startsWith('mem') ? undefined : 10),
        (id) => (call === 1 && id === 'cpu7' ? 'InternalError' : 'Complete'),
      );
    });
    const results = await new CloudWatchInstanceMetrics(new CloudWatchClient({})).read(instances.map((instanceId) => ({ instanceId, periodSeconds: 60 })), now);
    expect(results.get(instances[3]!)).toEqual({ ok: true, value: { cpuUtilization: 10, memoryUtilization: null } });
    expect(results.get(instances[7]!)).toMatchObject({ ok: false, error: { code: 'InternalError' } });
    expect(results.get(instances[300]!)).toEqual({ ok: false, error: { code: 'ThrottlingException', message: 'Rate exceeded' } });
    expect([...results.values()].filter((r) => !r.ok)).toHaveLength(251);
    expect(results.get(instances[599]!)).toMatchObject({ ok: true });
  });

  it('follows NextToken while CloudWatch says PartialData, keeping the newest value of each series', async () => {
    cw.on(GetMetricDataCommand)
      .resolvesOnce({ MetricDataResults: [{ Id: 'cpu0', StatusCode: 'PartialData', Values: [55] }, { Id: 'mem0', StatusCode: 'PartialData', Values: [20] }], NextToken: 'more' })
      .resolvesOnce({ MetricDataResults: [{ Id: 'cpu0', StatusCode: 'Complete', Values: [1] }, { Id: 'mem0', StatusCode: 'Complete', Values: [2] }] });
    const results = await new CloudWatchInstanceMetrics(new CloudWatchClient({})).read([{ instanceId: 'i-0123456789abcdef0', periodSeconds: 60 }], now);
    expect(cw.commandCalls(GetMetricDataCommand)[1]!.args[0].input.NextToken).toBe('more');
    expect(results.get('i-0123456789abcdef0')).toEqual({ ok: true, value: { cpuUtilization: 55, memoryUtilization: 20 } });
  });
});
