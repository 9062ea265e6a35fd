import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoInbox } from '../../functions/adapters/dynamodb/inbox.ts';
import { TenantSecrets } from '../../functions/adapters/dynamodb/tenant-secrets.ts';
import { createEventConsumer } from '../../functions/consumers/consumer.ts';
import { WebhookDeliveries } from '../../functions/consumers/webhooks/deliveries.ts';
import { webhookEffect, WEBHOOKS_CONSUMER } from '../../functions/consumers/webhooks/webhook-consumer.ts';
import { verifyWebhookSignature } from '../../functions/webhooks/signature.ts';
import { lambdaContext } from '../../local/lambda.ts';
import { createTestTables } from '../support/dynamodb.ts';
import { sampleEvent, sampleJob, sqsRecord } from '../support/events.ts';
import { startWebhookReceiver } from '../support/webhook-receiver.ts';

const context = lambdaContext('forgeflow-webhooks', 60_000);

describe('Webhooks consumer', () => {
  let tables: Awaited<ReturnType<typeof createTestTables>>;
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let deliveries: WebhookDeliveries;
  let secrets: TenantSecrets;

  const consumer = (policy = { allowHttp: true, allowLoopback: true, allowPrivate: false }) =>
    createEventConsumer({
      name: WEBHOOKS_CONSUMER,
      logger: new Logger({ logLevel: 'SILENT' }),
      metrics: new Metrics({ namespace: 'Test' }),
      handle: webhookEffect({
        inbox: new DynamoInbox(tables.documentClient, tables.tableNames.inbox),
        secrets,
        deliveries,
        policy,
        leaseSeconds: 60,
        // One HTTP attempt per SQS delivery, so the queue's redelivery is what retries here.
        delivery: { maxAttempts: 1, timeoutMs: 2000 },
      }),
    });

  beforeAll(async () => {
    tables = await createTestTables();
    deliveries = new WebhookDeliveries(tables.documentClient, tables.tableNames.webhookDeliveries);
    secrets = new TenantSecrets(tables.documentClient, tables.tableNames.tenants);
  });
  afterAll(() => receiver?.close());

  it('delivers once, signed, to a receiver that fails twice, however often the event arrives', async () => {
    receiver = await startWebhookReceiver([500, 503]);
    const event = sampleEvent({ ...sampleJob(), callbackUrl: receiver.url });
    const handler = consumer();
    const outcomes: number[] = [];
    // Five deliveries of the same message: the first two meet a failing receiver and go back to the queue.
    for (let delivery = 0; delivery < 5; delivery++) {
      const sqsEvent: SQSEvent = { Records: [sqsRecord(event)] };
      const result = await handler(sqsEvent, context).then((r) => r.batchItemFailures.length, () => 1);
      outcomes.push(result);
    }

    expect(outcomes).toEqual([1, 1, 0, 0, 0]);
    expect(receiver.received.map((r) => r.status)).toEqual([500, 503, 200]);
    expect(receiver.effects()).toHaveLength(1);
    const secret = await secrets.webhookSecret('acme');
    for (const request of receiver.received) {
      expect(request.eventId).toBe(event.id);
      expect(verifyWebhookSignature(secret, request.body, request.signature)).toBe(true);
      expect(JSON.parse(request.body)).toEqual(event);
    }
    const recorded = await deliveries.list(event.subject, 10);
    expect(recorded.items.map((a) => a.statusCode)).toEqual([500, 503, 200]);
    expect(recorded.items[0]!.url).not.toContain('token=');
  });

  it('refuses a callback to a private address without sending anything, and records why', async () => {
    const before = receiver.received.length;
    const event = sampleEvent({ ...sampleJob('job_11111111111111111111111111111111'), callbackUrl: 'http://10.0.0.7/hook' });

    const result = await consumer({ allowHttp: true, allowLoopback: false, allowPrivate: false })({ Records: [sqsRecord(event)] }, context);

    expect(result.batchItemFailures).toEqual([]);
    expect(receiver.received.length).toBe(before);
    const recorded = await deliveries.list(event.subject, 10);
    expect(recorded.items).toHaveLength(1);
    expect(recorded.items[0]!.error).toMatchObject({ code: 'TARGET_REFUSED', message: expect.stringMatching(/private/i) });
  });

  it('skips events of jobs without a callback', async () => {
    const event = sampleEvent(sampleJob('job_22222222222222222222222222222222'));
    const result = await consumer()({ Records: [sqsRecord(event)] }, context);
    expect(result.batchItemFailures).toEqual([]);
    expect((await deliveries.list(event.subject, 10)).items).toEqual([]);
  });
});
