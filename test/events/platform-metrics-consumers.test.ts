import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoInbox } from '../../functions/adapters/dynamodb/inbox.ts';
import { TenantSecrets } from '../../functions/adapters/dynamodb/tenant-secrets.ts';
import { createEventConsumer } from '../../functions/consumers/consumer.ts';
import { WebhookDeliveries } from '../../functions/consumers/webhooks/deliveries.ts';
import { webhookEffect, WEBHOOKS_CONSUMER } from '../../functions/consumers/webhooks/webhook-consumer.ts';
import type { EventEnvelope } from '../../functions/core/events.ts';
import { lambdaContext } from '../../local/lambda.ts';
import { createTestTables } from '../support/dynamodb.ts';
import { captureEmf, expectDeclared } from '../support/emf.ts';
import { sampleEvent, sampleJob, sqsRecord } from '../support/events.ts';
import { startWebhookReceiver } from '../support/webhook-receiver.ts';

const context = lambdaContext('forgeflow-test', 60_000);
const silent = new Logger({ logLevel: 'SILENT' });

let tables: Awaited<ReturnType<typeof createTestTables>>;
let emf: ReturnType<typeof captureEmf>;
beforeAll(async () => {
  tables = await createTestTables();
});
beforeEach(() => {
  emf = captureEmf();
});
afterEach(() => {
  try {
    expectDeclared(emf.metrics());
    // Not as a name, not as a value either: a dimension is never a job or a tenant.
    for (const { dimensions } of emf.metrics()) expect(Object.values(dimensions).filter((v) => /^job_|^acme$/.test(v))).toEqual([]);
  } finally {
    emf.restore();
  }
});

/** Failed messages of a one-message batch: a batch whose every message failed rejects as a whole. */
const deliver = (handler: (event: SQSEvent, c: typeof context) => Promise<{ batchItemFailures: unknown[] }>, event: EventEnvelope) =>
  handler({ Records: [sqsRecord(event)] }, context).then((r) => r.batchItemFailures.length, () => 1);

describe('Inbox metrics of any consumer', () => {
  it('counts what took effect and what was a duplicate by consumer, and not what was skipped', async () => {
    const outcomes = ['applied', 'duplicate', 'skipped', 'deferred'] as const;
    let next = 0;
    const handler = createEventConsumer({
      name: 'saga-starter',
      logger: silent,
      metrics: new Metrics({ namespace: 'ForgeflowTest' }),
      handle: async () => outcomes[next++]!,
    });
    for (let i = 0; i < outcomes.length; i++) await deliver(handler, sampleEvent());

    expect(emf.metrics().map((m) => [m.name, m.value, m.dimensions])).toEqual([
      ['InboxProcessed', 1, { Consumer: 'saga-starter' }],
      ['InboxDuplicates', 1, { Consumer: 'saga-starter' }],
    ]);
  });
});

describe('Webhook delivery metrics', () => {
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  beforeAll(async () => {
    // Requests in order: a retryable 503, a final 404, a 500 left to the queue, then 200s.
    receiver = await startWebhookReceiver([503, 404, 500]);
  });
  afterAll(() => receiver?.close());

  const consumer = (maxAttempts: number) => {
    const metrics = new Metrics({ namespace: 'ForgeflowTest', serviceName: 'forgeflow-webhooks' });
    return createEventConsumer({
      name: WEBHOOKS_CONSUMER,
      logger: silent,
      metrics,
      handle: webhookEffect({
        inbox: new DynamoInbox(tables.documentClient, tables.tableNames.inbox),
        secrets: new TenantSecrets(tables.documentClient, tables.tableNames.tenants),
        deliveries: new WebhookDeliveries(tables.documentClient, tables.tableNames.webhookDeliveries),
        policy: { allowHttp: true, allowLoopback: true, allowPrivate: false },
        leaseSeconds: 60,
        delivery: { maxAttempts, timeoutMs: 2000, baseDelayMs: 1, capDelayMs: 1, sleep: async () => {} },
        metrics,
      }),
    });
  };
  const hooked = (n: number, callbackUrl = receiver.url) => sampleEvent({ ...sampleJob(`job_53${String(n).padStart(30, '0')}`), callbackUrl });
  const outcomes = () => emf.named('WebhookDeliveries').map((m) => [m.dimensions.Outcome, m.value]);

  it('counts each attempt by outcome: retried, gave-up, delivered, and refused by our URL policy', async () => {
    // 503 then 404: one attempt retried in the call, then the receiver's final answer.
    expect(await deliver(consumer(2), hooked(1))).toBe(0);
    expect(outcomes()).toEqual([['retried', 1], ['gave-up', 1]]);

    emf.clear();
    // 500 with no attempt left in this call: the queue delivers it again, and the next delivery gets a 200.
    expect(await deliver(consumer(1), hooked(2))).toBe(1);
    expect(await deliver(consumer(1), hooked(2))).toBe(0);
    expect(outcomes()).toEqual([['retried', 1], ['delivered', 1]]);

    emf.clear();
    expect(await deliver(consumer(1), hooked(3, 'http://10.0.0.7/hook'))).toBe(0);
    expect(outcomes()).toEqual([['refused', 1]]);
    expect(receiver.received.map((r) => r.status)).toEqual([503, 404, 500, 200]);
  });

  it('counts nothing for a job without a callback', async () => {
    expect(await deliver(consumer(1), sampleEvent(sampleJob('job_54000000000000000000000000000000')))).toBe(0);
    expect(emf.named('WebhookDeliveries')).toEqual([]);
  });
});
