import { App, Duration, Stack } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_BUS, RULES } from '../../functions/declarations/events.ts';
import { JOB_CONTROL_QUEUE, RELAY_FAILURE_QUEUE, SAGA_STARTER_QUEUE, SCALER_QUEUE, WEBHOOKS_QUEUE } from '../../functions/declarations/queues.ts';
import { JOBS_TABLE, OUTBOX_TABLE } from '../../functions/declarations/tables.ts';
import { DISPATCH_QUEUES, WORKER_REPORTS_QUEUE } from '../../functions/declarations/workers.ts';
import { QueueConsumerFunction } from '../../lib/consumer-functions.ts';
import { DECLARED_QUEUES, DLQ_VISIBILITY_TIMEOUT_SECONDS, ForgeflowQueues } from '../../lib/queues.ts';
import { actionsOf, synthForgeflow, type ForgeflowFixture, type Json, type Resource, type Statement } from './fixture.ts';

/** The event backbone: bus, rules, queues and DLQs (stateful stack); relay and consumer mappings (api stack). */
let fixture: ForgeflowFixture;

beforeAll(() => {
  fixture = synthForgeflow();
});

afterAll(() => fixture.dispose());

const stateful = () => fixture.stacks.stateful;
const ref = (construct: { node: { defaultChild?: unknown } }) => ({ Ref: fixture.logicalId(stateful(), construct) });
const arn = (construct: { node: { defaultChild?: unknown } }) => ({ 'Fn::GetAtt': [fixture.logicalId(stateful(), construct), 'Arn'] });
const resources = (type: string, template = fixture.stateful) => Object.entries(template.findResources(type)) as [string, Resource][];

/** The statements of the queue policies attached to a queue (a construct, or the queue's logical id). */
function queuePolicy(queue: { node: { defaultChild?: unknown } } | string): Statement[] {
  const queueRef = JSON.stringify(typeof queue === 'string' ? { Ref: queue } : ref(queue));
  return resources('AWS::SQS::QueuePolicy')
    .filter(([, p]) => (p.Properties.Queues as unknown[]).some((q) => JSON.stringify(q) === queueRef))
    .flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}

describe('bus', () => {
  it('is the declared bus, on its own (not the default bus)', () => {
    const buses = resources('AWS::Events::EventBus');
    expect(buses).toHaveLength(1);
    expect(buses[0]![1].Properties.Name).toBe(EVENT_BUS.name);
  });

  it('gets a name of its own in another copy of the app, so copies can share an account', () => {
    const copy = synthForgeflow({ stackPrefix: 'Dev' });
    try {
      const name = String(resources('AWS::Events::EventBus', copy.stateful)[0]![1].Properties.Name);
      expect(name).not.toBe(EVENT_BUS.name);
      expect(name.startsWith(EVENT_BUS.name)).toBe(true);
    } finally {
      copy.dispose();
    }
  });
});

describe('rules', () => {
  it('creates exactly the declared rules, all on the Forgeflow bus', () => {
    const rules = resources('AWS::Events::Rule');
    expect(rules).toHaveLength(RULES.length);
    for (const [, rule] of rules) expect(rule.Properties.EventBusName).toEqual(ref(stateful().events.bus));
  });

  it.each(RULES.map((r) => [r.id, r] as const))('%s: the declared pattern, unchanged, to the declared queue', (_, definition) => {
    const { rule, targetDlq } = stateful().events.get(definition);
    const properties = fixture.resource(stateful(), rule).Properties;
    expect(properties.Name).toBe(definition.name);
    expect(properties.State).toBe('ENABLED');
    // JSON-equal to the declaration, prefix and exists operators included.
    expect(properties.EventPattern).toStrictEqual(JSON.parse(JSON.stringify(definition.pattern)));
    const targets = properties.Targets as Json[];
    expect(targets).toHaveLength(1);
    expect(targets[0]).toMatchObject({
      Arn: arn(stateful().queues.get(definition.target).queue),
      DeadLetterConfig: { Arn: arn(targetDlq) },
    });
  });

  it.each(RULES.map((r) => [r.id, r] as const))('%s: its queue and target DLQ accept events.amazonaws.com for their rules only', (_, definition) => {
    const { rule, targetDlq } = stateful().events.get(definition);
    const queue = stateful().queues.get(definition.target).queue;
    // A queue several rules feed (webhooks: job callbacks and worker alerts) allows each of them, and nothing else.
    const feeding = RULES.filter((r) => r.target === definition.target).map((r) => JSON.stringify(arn(stateful().events.get(r).rule)));
    for (const [where, sources] of [[queue, feeding], [targetDlq, [JSON.stringify(arn(rule))]]] as const) {
      const allows = queuePolicy(where).filter((s) => s.Effect === 'Allow');
      expect(allows.map((a) => JSON.stringify((a.Condition as { ArnEquals: Record<string, unknown> }).ArnEquals['aws:SourceArn'])).sort()).toEqual([...sources].sort());
      for (const allow of allows) {
        expect(allow).toMatchObject({ Principal: { Service: 'events.amazonaws.com' } });
        expect(actionsOf(allow)).toContain('sqs:SendMessage');
        expect(actionsOf(allow).every((a) => a.startsWith('sqs:') && !a.includes('*'))).toBe(true);
      }
    }
  });
});

describe('queues', () => {
  it.each(DECLARED_QUEUES.map((q) => [q.id, q] as const))('%s: declared visibility and retention, a DLQ after the declared receives', (_, definition) => {
    const { queue, dlq } = stateful().queues.get(definition);
    expect(fixture.resource(stateful(), queue).Properties).toMatchObject({
      VisibilityTimeout: definition.visibilityTimeoutSeconds,
      MessageRetentionPeriod: definition.retentionSeconds,
      RedrivePolicy: { deadLetterTargetArn: arn(dlq), maxReceiveCount: definition.maxReceiveCount },
      SqsManagedSseEnabled: true,
    });
    expect(fixture.resource(stateful(), dlq).Properties).toMatchObject({
      VisibilityTimeout: DLQ_VISIBILITY_TIMEOUT_SECONDS,
      MessageRetentionPeriod: definition.dlq.retentionSeconds,
      SqsManagedSseEnabled: true,
    });
  });

  it('keeps relay failures for the declared retention', () => {
    expect(fixture.resource(stateful(), stateful().queues.relayFailureQueue).Properties.MessageRetentionPeriod).toBe(
      RELAY_FAILURE_QUEUE.retentionSeconds,
    );
  });

  it('encrypts every queue and DLQ, denies every request without TLS, and retains them', () => {
    const queues = resources('AWS::SQS::Queue');
    expect(queues).toHaveLength(2 * DECLARED_QUEUES.length + RULES.length + 1);
    // The api stack's only queues: the DLQs of the spot interruption and reconciler rules, each beside its rule.
    fixture.api.resourceCountIs('AWS::SQS::Queue', 2);
    for (const [logicalId, queue] of queues) {
      expect(queue.Properties.SqsManagedSseEnabled ?? queue.Properties.KmsMasterKeyId, logicalId).toBeTruthy();
      expect(queue.DeletionPolicy, logicalId).toBe('Retain');
      expect(queuePolicy(logicalId), logicalId).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Action: 'sqs:*', Principal: { AWS: '*' }, Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
    }
  });
});

describe('alarms', () => {
  it('leaves the dead-letter queues to the monitoring: the stateful stack has no alarm, so none that notifies nobody', () => {
    const deadLetterQueues = resources('AWS::SQS::Queue').filter(([, q]) => q.Properties.RedrivePolicy === undefined);
    expect(deadLetterQueues).toHaveLength(DECLARED_QUEUES.length + RULES.length + 1);
    // The api stack's DeadLetters alarms watch each of them (test/cdk/monitoring.test.ts) and notify the alerts topic;
    // an alarm here could not (the topic lives in the api stack, which depends on this one).
    expect(resources('AWS::CloudWatch::Alarm')).toEqual([]);
  });

  it("alarms on the relay's errors and iterator age, missing data not breaching", () => {
    const alarms = resources('AWS::CloudWatch::Alarm', fixture.api).map(([, a]) => a.Properties);
    const relay = { Ref: fixture.logicalId(fixture.stacks.api, fixture.stacks.api.relayFunction.function) };
    for (const metric of ['Errors', 'IteratorAge']) {
      expect(alarms).toContainEqual(
        expect.objectContaining({
          Namespace: 'AWS/Lambda',
          MetricName: metric,
          Dimensions: [{ Name: 'FunctionName', Value: relay }],
          ComparisonOperator: 'GreaterThanThreshold',
          TreatMissingData: 'notBreaching',
        }),
      );
    }
  });
});

describe('event source mappings', () => {
  const mappings = () => resources('AWS::Lambda::EventSourceMapping', fixture.api).map(([, m]) => m.Properties);
  const functionRef = (fn: { node: { defaultChild?: unknown } }) => ({ Ref: fixture.logicalId(fixture.stacks.api, fn) });

  it.each([OUTBOX_TABLE, JOBS_TABLE])('reads the %s stream into the relay: bounded retries, bisecting, partial failures, failure queue', (table) => {
    const source = fixture.logicalId(stateful(), stateful().tables.get(table).table);
    const stream = mappings().filter((m) => JSON.stringify(fixture.local(m.EventSourceArn)) === JSON.stringify({ 'Fn::GetAtt': [source, 'StreamArn'] }));
    expect(stream).toHaveLength(1);
    const mapping = stream[0]!;
    expect(mapping).toMatchObject({
      FunctionName: functionRef(fixture.stacks.api.relayFunction.function),
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 100,
      ParallelizationFactor: 1,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 3,
      MaximumRecordAgeInSeconds: 3600,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    const onFailure = (mapping.DestinationConfig as { OnFailure: { Destination: unknown } }).OnFailure.Destination;
    expect(fixture.local(onFailure)).toEqual(arn(stateful().queues.relayFailureQueue));
  });

  it('hands the relay only the job writes that carry an event', () => {
    const jobs = fixture.logicalId(stateful(), stateful().tables.get(JOBS_TABLE).table);
    const mapping = mappings().find((m) => JSON.stringify(fixture.local(m.EventSourceArn)) === JSON.stringify({ 'Fn::GetAtt': [jobs, 'StreamArn'] }))!;
    const filters = (mapping.FilterCriteria as { Filters: { Pattern: string }[] }).Filters;
    expect(filters.map((f) => JSON.parse(f.Pattern))).toEqual([{ dynamodb: { NewImage: { relayEvent: { S: [{ exists: true }] } } } }]);
  });

  it("hands the relay only the outbox's new rows that hold an event to publish, not its own appends or TTL deletions", () => {
    const outbox = fixture.logicalId(stateful(), stateful().tables.get(OUTBOX_TABLE).table);
    const mapping = mappings().find((m) => JSON.stringify(fixture.local(m.EventSourceArn)) === JSON.stringify({ 'Fn::GetAtt': [outbox, 'StreamArn'] }))!;
    const filters = (mapping.FilterCriteria as { Filters: { Pattern: string }[] }).Filters;
    expect(filters.map((f) => JSON.parse(f.Pattern))).toEqual([{ eventName: ['INSERT'], dynamodb: { NewImage: { relayed: { BOOL: [{ exists: false }] } } } }]);
  });

  it.each([
    ['webhooksFunction', WEBHOOKS_QUEUE],
    ['sagaStarterFunction', SAGA_STARTER_QUEUE],
    ['jobControlFunction', JOB_CONTROL_QUEUE],
    ['workerReportsFunction', WORKER_REPORTS_QUEUE],
    ['scalerFunction', SCALER_QUEUE],
  ] as const)('%s: its declared queue and batch size, partial batch failures, bounded concurrency', (name, definition) => {
    const fn = name === 'scalerFunction' ? fixture.stacks.api.workerFleet.scalerFunction : fixture.stacks.api[name];
    const queueArn = arn(stateful().queues.get(definition).queue);
    const onQueue = mappings().filter((m) => JSON.stringify(fixture.local(m.EventSourceArn)) === JSON.stringify(queueArn));
    expect(onQueue).toHaveLength(1);
    expect(onQueue[0]).toMatchObject({
      FunctionName: functionRef(fn.function),
      BatchSize: definition.batchSize,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    expect((onQueue[0]!.ScalingConfig as { MaximumConcurrency: number }).MaximumConcurrency).toBeGreaterThanOrEqual(2);
    // The declared batching window (the scaler's 2 s), or none: the same one the local poller keeps.
    expect(onQueue[0]!.MaximumBatchingWindowInSeconds).toBe((definition as { maxBatchingWindowSeconds?: number }).maxBatchingWindowSeconds);
    // Lambda refuses an SQS mapping whose function may run longer than the queue's visibility timeout.
    const timeout = fixture.resource(fixture.stacks.api, fn.function).Properties.Timeout as number;
    expect(timeout).toBeLessThanOrEqual(definition.visibilityTimeoutSeconds);
  });

  it('reports batch item failures on every mapping', () => {
    // The outbox and jobs streams, four consumer queues, admission, the scaler's nudge queue, and every dispatch DLQ (saga.test.ts).
    expect(mappings()).toHaveLength(8 + DISPATCH_QUEUES.length);
    for (const mapping of mappings()) expect(mapping.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
  });

  it('refuses a consumer whose timeout exceeds its queue visibility timeout', () => {
    const stack = new Stack(new App(), 'Probe');
    const queues = new ForgeflowQueues(stack, 'Queues');
    expect(
      () =>
        new QueueConsumerFunction(stack, 'TooSlow', {
          entry: 'functions/consumers/webhooks/handler.ts',
          description: 'probe',
          serviceName: 'probe',
          memorySize: 128,
          timeout: Duration.seconds(WEBHOOKS_QUEUE.visibilityTimeoutSeconds + 1),
          queue: queues.get(WEBHOOKS_QUEUE),
          maxConcurrency: 2,
        }),
    ).toThrow(/visibility timeout/);
  });
});
