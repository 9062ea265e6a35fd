import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WORKER_EVENT_SOURCE } from '../../functions/core/events.ts';
import { THRESHOLD_METRICS } from '../../functions/core/fleet/worker-metrics.ts';
import { PRIORITIES } from '../../functions/core/priority.ts';
import { METRICS_NAMESPACE, PLATFORM_METRICS, type PlatformMetricName } from '../../functions/declarations/metrics.ts';
import { OUTBOX_TABLE } from '../../functions/declarations/tables.ts';
import { dispatchQueue, WORKER_CLASSES } from '../../functions/declarations/workers.ts';
import { ForgeflowFunction } from '../../lib/lambda-function.ts';
import { ALERT_EMAIL_PARAMETER } from '../../lib/monitoring/alerts-topic.ts';
import { END_TO_END_P99_BUDGET } from '../../lib/monitoring/job-alarms.ts';
import { RUNBOOKS_DIR } from '../../lib/monitoring/runbooks.ts';
import { THRESHOLD_EVENT_TYPES } from '../../lib/monitoring/threshold-events.ts';
import { synthForgeflow, type ForgeflowFixture, type Json, type Resource, type Statement } from './fixture.ts';

/** The operations side of the api stack: alerts topic, threshold-events rule, alarms and their runbooks, dashboard. */
let fixture: ForgeflowFixture;

beforeAll(() => {
  fixture = synthForgeflow();
});

afterAll(() => fixture.dispose());

const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const api = () => fixture.stacks.api;
const stateful = () => fixture.stacks.stateful;
const monitoring = () => api().monitoring;
const json = (value: unknown) => JSON.stringify(value);
const resources = (type: string, template = fixture.api) => Object.entries(template.findResources(type)) as [string, Resource][];
const apiRef = (construct: { node: { defaultChild?: unknown } }) => ({ Ref: fixture.logicalId(api(), construct) });
const apiArn = (construct: { node: { defaultChild?: unknown } }) => ({ 'Fn::GetAtt': [fixture.logicalId(api(), construct), 'Arn'] });
const statefulAttr = (construct: { node: { defaultChild?: unknown } }, attribute: string) => ({ 'Fn::GetAtt': [fixture.logicalId(stateful(), construct), attribute] });
const statefulRef = (construct: { node: { defaultChild?: unknown } }) => ({ Ref: fixture.logicalId(stateful(), construct) });

type MetricStat = { Metric: { Namespace: string; MetricName: string; Dimensions?: { Name: string; Value: unknown }[] }; Stat: string; Period: number };
type AlarmMetric = { Id: string; Expression?: string; MetricStat?: MetricStat; ReturnData?: boolean };
type AlarmProps = Json & { AlarmDescription: string; Metrics?: AlarmMetric[]; Threshold: number; ComparisonOperator: string; EvaluationPeriods: number; TreatMissingData?: string };

const alarms = () => resources('AWS::CloudWatch::Alarm').map(([id, a]) => [id, a.Properties as AlarmProps] as const);
const alarmsWithRunbook = (runbook: string) => alarms().filter(([, a]) => a.AlarmDescription.includes(`${RUNBOOKS_DIR}/${runbook}.md`)).map(([, a]) => a);
/** Every metric an alarm reads: its one metric, or each metric of its math. */
const statsOf = (alarm: AlarmProps): MetricStat[] => {
  if (alarm.Metrics) return alarm.Metrics.flatMap((m) => (m.MetricStat ? [m.MetricStat] : []));
  const { Namespace, MetricName, Dimensions, Statistic, ExtendedStatistic, Period } = alarm as Json;
  return [{ Metric: { Namespace, MetricName, Dimensions }, Stat: Statistic ?? ExtendedStatistic, Period } as MetricStat];
};
const metricIds = (alarm: AlarmProps) => alarm.Metrics!.filter((m) => m.MetricStat).map((m) => m.Id);
/** A metric's dimensions as name → value, cross-stack references resolved to what they point at. */
const dimensionsOf = (stat: MetricStat) => Object.fromEntries((stat.Metric.Dimensions ?? []).map((d) => [d.Name, json(fixture.local(d.Value))]));

/**
 * The value of an alarm's expression for one datapoint of each of its metrics (undefined: no datapoint), with
 * CloudWatch's semantics for the few functions the alarms use. Tests what the alarm does, not how it is spelled.
 */
function evaluate(alarm: AlarmProps, values: Record<string, number | undefined>): number | undefined {
  const metrics = alarm.Metrics ?? [];
  const expression = metrics.find((m) => m.ReturnData !== false)!.Expression!;
  const ids = metrics.filter((m) => m.MetricStat).map((m) => m.Id);
  const present = (xs: (number | undefined)[]) => xs.filter((x): x is number => x !== undefined && !Number.isNaN(x));
  const functions = {
    IF: (condition: unknown, then: number, otherwise: number) => (condition ? then : otherwise),
    FILL: (x: number | undefined, fill: number) => x ?? fill,
    SUM: (xs: (number | undefined)[]) => (present(xs).length ? present(xs).reduce((a, b) => a + b, 0) : undefined),
    MAX: (xs: (number | undefined)[]) => (present(xs).length ? Math.max(...present(xs)) : undefined),
  };
  // A metric used bare (not inside FILL or an array function) leaves the result without a datapoint when it has none.
  const bare = expression.replace(/FILL\(\w+, [\d.]+\)/g, '').replace(/\[[^\]]*\]/g, '');
  if (ids.some((id) => new RegExp(`\\b${id}\\b`).test(bare) && values[id] === undefined)) return undefined;
  const body = `return (${expression.replace(/\bAND\b/g, '&&').replace(/\bOR\b/g, '||')});`;
  const result = new Function(...Object.keys(functions), ...ids, body)(...Object.values(functions), ...ids.map((id) => values[id])) as number | undefined;
  return result === undefined || Number.isNaN(result) ? undefined : result;
}

function breaches(alarm: AlarmProps, values: Record<string, number | undefined>): boolean | 'missing' {
  const value = evaluate(alarm, values);
  if (value === undefined) return 'missing';
  const compare: Record<string, (a: number, b: number) => boolean> = {
    GreaterThanOrEqualToThreshold: (a, b) => a >= b,
    GreaterThanThreshold: (a, b) => a > b,
    LessThanThreshold: (a, b) => a < b,
  };
  return compare[alarm.ComparisonOperator]!(value, alarm.Threshold);
}

describe('alerts topic', () => {
  const topic = () => fixture.resource(api(), monitoring().alertsTopic).Properties;
  const topicStatements = () =>
    resources('AWS::SNS::TopicPolicy')
      .filter(([, p]) => json(p.Properties.Topics) === json([apiRef(monitoring().alertsTopic)]))
      .flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);

  it('is encrypted with a rotating key of its own, which CloudWatch and EventBridge may use, and refuses publishes without TLS', () => {
    const key = monitoring().alerts.key;
    expect(topic().KmsMasterKeyId).toEqual(apiArn(key));
    const keyProps = fixture.resource(api(), key).Properties;
    expect(keyProps.EnableKeyRotation).toBe(true);
    const services = (keyProps.KeyPolicy as { Statement: Statement[] }).Statement.filter((s) => (s.Principal as { Service?: unknown }).Service);
    expect(services).toEqual([expect.objectContaining({ Principal: { Service: ['cloudwatch.amazonaws.com', 'events.amazonaws.com'] }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'] })]);
    expect(topicStatements()).toContainEqual(expect.objectContaining({ Effect: 'Deny', Action: 'sns:Publish', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
  });

  it('lets CloudWatch publish for alarms of this account only, and EventBridge for the threshold rule only', () => {
    const allows = topicStatements().filter((s) => s.Effect === 'Allow');
    expect(allows.map((s) => s.Principal)).toEqual(expect.arrayContaining([{ Service: 'cloudwatch.amazonaws.com' }, { Service: 'events.amazonaws.com' }]));
    expect(allows).toHaveLength(2);
    const events = allows.find((s) => json(s.Principal) === json({ Service: 'events.amazonaws.com' }))!;
    expect(events.Condition).toEqual({ ArnEquals: { 'aws:SourceArn': apiArn(monitoring().thresholdEvents.rule) } });
    const cloudwatch = allows.find((s) => json(s.Principal) === json({ Service: 'cloudwatch.amazonaws.com' }))!;
    expect(cloudwatch.Condition).toMatchObject({ StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } });
    expect(json(cloudwatch.Condition)).toContain(':alarm:*');
  });

  it('subscribes the AlertEmail parameter by e-mail only when it is not empty (the default)', () => {
    const template = fixture.api.toJSON() as { Parameters: Record<string, Json>; Conditions: Record<string, unknown> };
    expect(template.Parameters[ALERT_EMAIL_PARAMETER]).toMatchObject({ Type: 'String', Default: '' });
    const subscriptions = resources('AWS::SNS::Subscription').filter(([, s]) => json(s.Properties.TopicArn) === json(apiRef(monitoring().alertsTopic)));
    expect(subscriptions).toHaveLength(1);
    const [, subscription] = subscriptions[0]!;
    expect(subscription.Properties).toMatchObject({ Protocol: 'email', Endpoint: { Ref: ALERT_EMAIL_PARAMETER } });
    const condition = template.Conditions[(subscription as Resource & { Condition: string }).Condition];
    // The condition as CloudFormation evaluates it, for each kind of parameter value.
    const holds = (value: string): boolean => {
      const evaluateCondition = (node: unknown): unknown => {
        const n = node as Json;
        if (typeof node !== 'object' || node === null) return node;
        if ('Ref' in n) return n.Ref === ALERT_EMAIL_PARAMETER ? value : undefined;
        if ('Fn::Not' in n) return !evaluateCondition((n['Fn::Not'] as unknown[])[0]);
        if ('Fn::Equals' in n) return (n['Fn::Equals'] as unknown[]).map(evaluateCondition).reduce((a, b) => a === b);
        throw new Error(`Unexpected condition ${json(node)}`);
      };
      return evaluateCondition(condition) as boolean;
    };
    expect(holds('')).toBe(false);
    expect(holds('oncall@example.com')).toBe(true);
  });
});

describe('threshold events rule', () => {
  it('sends WorkerThresholdExceeded and WorkerThresholdCleared from the workers source on the Forgeflow bus to the topic, and nothing else', () => {
    const rule = fixture.resource(api(), monitoring().thresholdEvents.rule).Properties;
    expect(fixture.local(rule.EventBusName)).toEqual(statefulRef(stateful().events.bus));
    expect(rule.EventPattern).toEqual({ source: [WORKER_EVENT_SOURCE], 'detail-type': ['WorkerThresholdExceeded', 'WorkerThresholdCleared'] });
    expect(THRESHOLD_EVENT_TYPES).toEqual(['WorkerThresholdExceeded', 'WorkerThresholdCleared']);
    expect(rule.Targets).toEqual([expect.objectContaining({ Arn: apiRef(monitoring().alertsTopic) })]);
    expect((rule.Targets as Json[])[0]!.InputTransformer ?? (rule.Targets as Json[])[0]!.Input).toBeUndefined();
  });
});

describe('alarms', () => {
  it('has at least ten alarms, none with a fixed name (copies of the app share an account)', () => {
    expect(alarms().length).toBeGreaterThanOrEqual(10);
    for (const [id, alarm] of alarms()) expect(alarm.AlarmName, id).toBeUndefined();
  });

  it('notifies the alerts topic from every alarm of the stack, when it fires and when it clears', () => {
    const topic = [apiRef(monitoring().alertsTopic)];
    for (const [id, alarm] of alarms()) {
      expect(alarm.AlarmActions, id).toEqual(topic);
      expect(alarm.OKActions, id).toEqual(topic);
    }
  });

  it('names, in every alarm description, a runbook that exists; and every runbook belongs to an alarm', () => {
    const named = new Set<string>();
    for (const [id, alarm] of alarms()) {
      const runbook = new RegExp(`${RUNBOOKS_DIR}/[a-z0-9-]+\\.md`).exec(alarm.AlarmDescription)?.[0];
      expect(runbook, id).toBeDefined();
      expect(existsSync(path.join(PROJECT_ROOT, runbook!)), runbook).toBe(true);
      named.add(path.basename(runbook!));
    }
    const files = readdirSync(path.join(PROJECT_ROOT, RUNBOOKS_DIR)).filter((f) => f.endsWith('.md') && f !== 'README.md');
    expect([...named].sort()).toEqual(files.sort());
  });

  it('reads platform metrics by their declared names and exactly their declared dimensions', () => {
    const platform = alarms().flatMap(([, a]) => statsOf(a)).filter((s) => s.Metric.Namespace === METRICS_NAMESPACE);
    expect(platform.length).toBeGreaterThan(0);
    for (const stat of platform) {
      const declared = PLATFORM_METRICS[stat.Metric.MetricName as PlatformMetricName];
      expect(declared, stat.Metric.MetricName).toBeDefined();
      expect(Object.keys(dimensionsOf(stat)).sort(), stat.Metric.MetricName).toEqual([...declared.dimensions].sort());
    }
  });

  it("outbox lag: the relay's IteratorAge above five minutes", () => {
    const [alarm] = alarmsWithRunbook('outbox-lag');
    expect(alarm).toMatchObject({ Namespace: 'AWS/Lambda', MetricName: 'IteratorAge', Dimensions: [{ Name: 'FunctionName', Value: apiRef(api().relayFunction.function) }], Threshold: 300_000 });
  });

  it('relay down: the outbox table written while the relay is not invoked', () => {
    const [alarm] = alarmsWithRunbook('relay-down');
    const byId = Object.fromEntries(alarm!.Metrics!.filter((m) => m.MetricStat).map((m) => [m.Id, m.MetricStat!]));
    expect(byId.writes!.Metric).toMatchObject({ Namespace: 'AWS/DynamoDB', MetricName: 'ConsumedWriteCapacityUnits' });
    expect(dimensionsOf(byId.writes!)).toEqual({ TableName: json(statefulRef(stateful().tables.get(OUTBOX_TABLE).table)) });
    expect(byId.invocations!.Metric).toMatchObject({ Namespace: 'AWS/Lambda', MetricName: 'Invocations', Dimensions: [{ Name: 'FunctionName', Value: apiRef(api().relayFunction.function) }] });
    expect(breaches(alarm!, { writes: 40, invocations: undefined })).toBe(true);
    expect(breaches(alarm!, { writes: 40, invocations: 3 })).toBe(false);
    expect(breaches(alarm!, { writes: undefined, invocations: undefined })).toBe('missing');
  });

  it.each([
    ['relay-publish-errors', 'RelayFailures', 'EventsRelayed', 1],
    ['optimistic-publish-failures', 'OptimisticPublishFailures', 'OptimisticPublishAttempts', 10],
  ])('%s: %s above %i percent of the publishes, and idle is healthy', (runbook, failureMetric, volumeMetric, percent) => {
    const [alarm] = alarmsWithRunbook(runbook);
    const idOf = (name: string) => alarm!.Metrics!.find((m) => m.MetricStat?.Metric.MetricName === name)!.Id;
    const [failures, volume] = [idOf(failureMetric), idOf(volumeMetric)];
    // EventsRelayed counts successes only; OptimisticPublishAttempts counts every attempt.
    const total = (failed: number, ok: number) => (volumeMetric === 'EventsRelayed' ? ok : ok + failed);
    expect(breaches(alarm!, { [failures]: percent * 2, [volume]: total(percent * 2, 100 - percent * 2) })).toBe(true);
    expect(breaches(alarm!, { [failures]: percent / 2, [volume]: total(percent / 2, 100 - percent / 2) })).toBe(false);
    expect(breaches(alarm!, { [failures]: undefined, [volume]: 50 })).toBe(false);
    expect(breaches(alarm!, { [failures]: undefined, [volume]: undefined })).toBe(false);
  });

  it('saga starts lost: the first run the API could neither start nor hand off, in one period', () => {
    const [alarm] = alarmsWithRunbook('saga-starts-lost');
    expect(alarm).toMatchObject({ Namespace: 'Forgeflow', MetricName: 'SagaStartsLost', Statistic: 'Sum', Threshold: 1, EvaluationPeriods: 1, TreatMissingData: 'notBreaching' });
    expect(alarm!.ComparisonOperator).toBe('GreaterThanOrEqualToThreshold');
  });

  it('DLQ messages: every dead-letter queue the stack can see, at most ten per alarm, from the first message', () => {
    const statefulDlqs = [...stateful().queues.all.map((q) => q.dlq), stateful().queues.relayFailureQueue, ...stateful().events.all.map((r) => r.targetDlq)];
    const dlqAlarms = alarmsWithRunbook('dead-letter-messages');
    const watched = dlqAlarms.flatMap((a) => statsOf(a)).filter((s) => s.Metric.MetricName === 'ApproximateNumberOfMessagesVisible');
    const watchedQueues = new Set(watched.map((s) => dimensionsOf(s).QueueName));
    for (const dlq of statefulDlqs) expect(watchedQueues.has(json(statefulAttr(dlq, 'QueueName'))), dlq.node.path).toBe(true);
    for (const dlq of [api().reconcilerFunction.targetDlq, api().workerFleet.spotInterruptionFunction.targetDlq]) {
      expect(watchedQueues.has(json({ 'Fn::GetAtt': [fixture.logicalId(api(), dlq), 'QueueName'] })), dlq.node.path).toBe(true);
    }
    for (const alarm of dlqAlarms) {
      expect(statsOf(alarm).length).toBeLessThanOrEqual(10);
      if (alarm.Metrics) expect(breaches(alarm, Object.fromEntries(metricIds(alarm).map((id, i) => [id, i === 0 ? 1 : undefined])))).toBe(true);
    }
  });

  it('end-to-end latency: p99 per worker class and priority, over its budget', () => {
    const latency = alarmsWithRunbook('end-to-end-latency');
    for (const workerClass of WORKER_CLASSES) {
      for (const priority of PRIORITIES) {
        const alarm = latency.find((a) => {
          const dimensions = dimensionsOf(statsOf(a)[0]!);
          return Object.keys(dimensions).length === 2 && dimensions.WorkerClass === json(workerClass) && dimensions.Priority === json(priority);
        });
        expect(alarm, `${workerClass}/${priority}`).toMatchObject({ Namespace: METRICS_NAMESPACE, MetricName: 'EndToEndLatency', ExtendedStatistic: 'p99' });
        expect(alarm!.Threshold).toBe(END_TO_END_P99_BUDGET[priority].toMilliseconds());
      }
    }
  });

  it('healthy workers: below 75% of READY, never while no worker is READY', () => {
    for (const workerClass of WORKER_CLASSES) {
      const alarm = alarmsWithRunbook('workers-unhealthy').find((a) => statsOf(a).some((s) => dimensionsOf(s).WorkerClass === json(workerClass)))!;
      const byName = Object.fromEntries(alarm.Metrics!.filter((m) => m.MetricStat).map((m) => [m.MetricStat!.Metric.MetricName, m]));
      expect(dimensionsOf(byName.FleetSize!.MetricStat!)).toEqual({ WorkerClass: json(workerClass), State: json('READY') });
      const at = (ready: number, healthy: number) => breaches(alarm, { [byName.FleetSize!.Id]: ready, [byName.WorkersHealthy!.Id]: healthy });
      expect(at(4, 2)).toBe(true);
      expect(at(4, 3)).toBe(false);
      expect(at(0, 0)).toBe(false);
    }
  });

  it('dispatch stalled: each dispatch queue holding work while nothing is received', () => {
    const stalled = alarmsWithRunbook('dispatch-stalled');
    for (const workerClass of WORKER_CLASSES) {
      for (const priority of PRIORITIES) {
        const queueName = json(statefulAttr(stateful().queues.get(dispatchQueue(workerClass, priority)).queue, 'QueueName'));
        const alarm = stalled.find((a) => statsOf(a).every((s) => dimensionsOf(s).QueueName === queueName))!;
        expect(alarm, `${workerClass}/${priority}`).toBeDefined();
        const idOf = (name: string) => alarm.Metrics!.find((m) => m.MetricStat?.Metric.MetricName === name)!.Id;
        const at = (visible: number, received: number | undefined) => breaches(alarm, { [idOf('ApproximateNumberOfMessagesVisible')]: visible, [idOf('NumberOfMessagesReceived')]: received });
        expect(at(3, undefined)).toBe(true);
        expect(at(3, 1)).toBe(false);
        expect(at(0, undefined)).toBe(false);
        // Longer than a cold start: the fleet scales to zero, and the first job waits for a worker's boot.
        expect(alarm.EvaluationPeriods * statsOf(alarm)[0]!.Period).toBeGreaterThan(600);
      }
    }
  });

  it.each([
    ['saga-executions-failing', () => api().jobSaga.stateMachine, 1],
    ['provisioning-failures', () => api().workerFleet.provisioning.stateMachine, 3],
  ] as const)('%s: failed plus timed-out executions of its state machine', (runbook, machine, threshold) => {
    const [alarm] = alarmsWithRunbook(runbook);
    const stats = statsOf(alarm!);
    expect(stats.map((s) => s.Metric.MetricName).sort()).toEqual(['ExecutionsFailed', 'ExecutionsTimedOut']);
    for (const stat of stats) expect(dimensionsOf(stat)).toEqual({ StateMachineArn: json(apiRef(machine())) });
    const [failed, timedOut] = ['ExecutionsFailed', 'ExecutionsTimedOut'].map((name) => alarm!.Metrics!.find((m) => m.MetricStat?.Metric.MetricName === name)!.Id);
    expect(breaches(alarm!, { [failed!]: undefined, [timedOut!]: threshold })).toBe(true);
    expect(breaches(alarm!, { [failed!]: threshold - 1, [timedOut!]: undefined })).toBe(false);
  });

  it('worker thresholds: any CPU or memory crossing of a class', () => {
    for (const workerClass of WORKER_CLASSES) {
      const alarm = alarmsWithRunbook('worker-thresholds').find((a) => statsOf(a).some((s) => dimensionsOf(s).WorkerClass === json(workerClass)))!;
      expect(statsOf(alarm).map((s) => dimensionsOf(s).Metric).sort()).toEqual(THRESHOLD_METRICS.map((m) => json(m)).sort());
      const ids = metricIds(alarm);
      expect(breaches(alarm, { [ids[0]!]: undefined, [ids[1]!]: 1 })).toBe(true);
      expect(breaches(alarm, {})).toBe('missing');
    }
  });
});

describe('dashboard', () => {
  type Widget = { type: string; properties: { title?: string; alarms?: string[]; metrics?: unknown[][] } };
  const references = new Map<string, string>();
  /** The body as JSON, each CloudFormation reference in it replaced by a placeholder that `resolved` maps back. */
  const widgets = (): Widget[] => {
    const [, dashboard] = resources('AWS::CloudWatch::Dashboard')[0]!;
    const parts = (dashboard.Properties.DashboardBody as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
    const text = parts.map((part) => {
      if (typeof part === 'string') return part;
      const placeholder = `@ref${references.size}@`;
      references.set(placeholder, json(fixture.local(part)));
      return placeholder;
    });
    return (JSON.parse(text.join('')) as { widgets: Widget[] }).widgets;
  };
  const resolved = (text: unknown) => String(text).replace(/@ref\d+@/g, (p) => references.get(p)!);
  const widget = (title: string) => {
    const found = widgets().find((w) => w.properties.title === title);
    if (!found) throw new Error(`No widget titled ${title}`);
    return found;
  };
  /** A graph line as one string: namespace, metric name and dimensions, or its expression; references resolved. */
  const lineText = (line: unknown[]) => resolved(line.map((x) => (typeof x === 'string' ? `"${x}"` : ((x as { expression?: string }).expression ?? json(x)))).join(' '));
  const lines = (title: string) => (widget(title).properties.metrics ?? []).map(lineText);
  const hasLine = (title: string, ...fragments: string[]) => lines(title).some((line) => fragments.every((f) => line.includes(f)));

  it('is one dashboard, named after its stack, in the api stack only', () => {
    expect(resources('AWS::CloudWatch::Dashboard')).toHaveLength(1);
    expect(resources('AWS::CloudWatch::Dashboard', fixture.stateful)).toHaveLength(0);
    expect(resources('AWS::CloudWatch::Dashboard')[0]![1].Properties.DashboardName).toBe(api().stackName);
  });

  it('shows every alarm of the stack', () => {
    const shown = (widgets().find((w) => w.type === 'alarm')?.properties.alarms ?? []).map(resolved);
    for (const [id] of alarms()) expect(shown, id).toContain(json({ 'Fn::GetAtt': [id, 'Arn'] }));
  });

  it('graphs job throughput, failures by reason and end-to-end latency from the declared metrics', () => {
    for (const metric of ['JobsSubmitted', 'JobsStarted', 'JobsSucceeded']) expect(hasLine('Job throughput', `{${METRICS_NAMESPACE},WorkerClass,Priority} MetricName="${metric}"`), metric).toBe(true);
    expect(hasLine('Jobs failed by reason', 'SEARCH', `{${METRICS_NAMESPACE},WorkerClass,Reason}`, 'JobsFailed')).toBe(true);
    expect(hasLine('End-to-end latency p99 (ms)', 'EndToEndLatency', 'p99')).toBe(true);
  });

  it('graphs depth and oldest-message age of every dispatch queue', () => {
    for (const workerClass of WORKER_CLASSES) {
      for (const priority of PRIORITIES) {
        const queueName = json(statefulAttr(stateful().queues.get(dispatchQueue(workerClass, priority)).queue, 'QueueName'));
        expect(lines('Dispatch queue depth (ApproximateNumberOfMessagesVisible)').some((l) => l.includes('ApproximateNumberOfMessagesVisible') && l.includes(queueName))).toBe(true);
        expect(lines('Dispatch queue oldest message age (s)').some((l) => l.includes('ApproximateAgeOfOldestMessage') && l.includes(queueName))).toBe(true);
      }
    }
  });

  it('graphs the job saga executions started, failed and timed out', () => {
    const saga = json(apiRef(api().jobSaga.stateMachine));
    for (const metric of ['ExecutionsStarted', 'ExecutionsFailed', 'ExecutionsTimedOut']) {
      expect(lines('Job saga executions').some((l) => l.includes(metric) && l.includes(saga)), metric).toBe(true);
    }
  });

  it('graphs errors, throttles and duration of every Forgeflow function of the stack', () => {
    const functions = api().node.findAll().filter((c): c is ForgeflowFunction => c instanceof ForgeflowFunction);
    expect(functions.length).toBeGreaterThan(20);
    for (const fn of functions) {
      const ref = json(apiRef(fn.function));
      for (const [title, metric] of [['Lambda errors', 'Errors'], ['Lambda throttles', 'Throttles'], ['Lambda duration p99 (ms)', 'Duration']] as const) {
        expect(lines(title).some((l) => l.includes(`"${metric}"`) && l.includes(ref)), `${metric} of ${fn.node.path}`).toBe(true);
      }
    }
  });

  it('graphs the DynamoDB throttles of every table, and the relay IteratorAge', () => {
    for (const { table } of stateful().tables.all) {
      const name = json(statefulRef(table));
      expect(lines('DynamoDB ThrottledRequests').some((l) => l.includes('ThrottledRequests') && l.includes(name))).toBe(true);
      expect(lines('DynamoDB ReadThrottleEvents').some((l) => l.includes('ReadThrottleEvents') && l.includes(name))).toBe(true);
      expect(lines('DynamoDB WriteThrottleEvents').some((l) => l.includes('WriteThrottleEvents') && l.includes(name))).toBe(true);
    }
    expect(lines('Relay IteratorAge and OutboxLag (ms)').some((l) => l.includes('IteratorAge') && l.includes(json(apiRef(api().relayFunction.function))))).toBe(true);
  });

  it('graphs fleet size by class and state, and per-worker CPU and memory through SEARCH', () => {
    expect(hasLine('Fleet size by state', 'SEARCH', `{${METRICS_NAMESPACE},WorkerClass,State}`, 'FleetSize')).toBe(true);
    expect(hasLine('Worker CPU % (AWS/EC2 CPUUtilization)', 'SEARCH', '{AWS/EC2,InstanceId}', 'CPUUtilization')).toBe(true);
    expect(hasLine('Worker memory % (CWAgent mem_used_percent)', 'SEARCH', '{CWAgent,InstanceId}', 'mem_used_percent')).toBe(true);
  });

  it('searches platform metrics only by declared names, with their declared dimension schema', () => {
    const searches = widgets().flatMap((w) => (w.properties.metrics ?? []).map(lineText));
    const platform = searches.flatMap((line) => [...line.matchAll(new RegExp(`\\{${METRICS_NAMESPACE}((?:,\\w+)*)\\} MetricName="(\\w+)"`, 'g'))]);
    expect(platform.length).toBeGreaterThan(5);
    for (const [, schema, name] of platform) {
      const declared = PLATFORM_METRICS[name as PlatformMetricName];
      expect(declared, name).toBeDefined();
      expect(schema!.split(',').filter(Boolean), name).toEqual([...declared.dimensions]);
    }
  });
});
