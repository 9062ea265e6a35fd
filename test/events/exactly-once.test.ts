import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoInbox } from '../../functions/adapters/dynamodb/inbox.ts';
import { TenantSecrets } from '../../functions/adapters/dynamodb/tenant-secrets.ts';
import { createEventConsumer, type EffectOutcome } from '../../functions/consumers/consumer.ts';
import { WebhookDeliveries } from '../../functions/consumers/webhooks/deliveries.ts';
import { webhookEffect } from '../../functions/consumers/webhooks/webhook-consumer.ts';
import type { EventEnvelope } from '../../functions/core/events.ts';
import { createTestTables } from '../support/dynamodb.ts';
import { sampleEvent, sampleJob, sqsRecord } from '../support/events.ts';
import { startWebhookReceiver } from '../support/webhook-receiver.ts';

/**
 * 400 events (1,200 deliveries, 120 batches with 8 in flight) over 20 jobs keep every race this test is for (claims
 * lost and retried, delivery partitions of 20 events each, concurrent batches) at a twenty-fifth of the old soak's
 * cost: the suite has a 4-minute budget, and `npm run bench -- faults` is where thousands of jobs go through the same
 * consumers.
 */
const EVENTS = 400;
const JOB_COUNT = 20;
const DELIVERIES = 3;
const context = {} as Context;
const sorted = (values: string[]) => [...values].sort();
type Handler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/**
 * Every event three times, shuffled, in SQS batches of 10, 8 batches in flight; every consumer gets every batch.
 * What a handler reports as failed (it lost a claim race) is delivered again, as SQS would after the timeout.
 */
async function deliverEachThreeTimes(events: EventEnvelope[], handlers: Handler[]) {
  const deliveries = events.flatMap((event) => Array.from({ length: DELIVERIES }, (_, n) => sqsRecord(event, `${event.id}-${n}`)));
  let seed = 42;
  const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  for (let i = deliveries.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [deliveries[i], deliveries[j]] = [deliveries[j]!, deliveries[i]!];
  }
  const batches: SQSEvent[] = [];
  for (let i = 0; i < deliveries.length; i += 10) batches.push({ Records: deliveries.slice(i, i + 10) });
  let next = 0;
  const deliverUntilDone = async (handler: Handler, batch: SQSEvent) => {
    let pending = batch;
    while (pending.Records.length > 0) {
      // A handler that throws (every record failed) gets the whole batch again, as from SQS.
      const response = await handler(pending, context).catch(() => undefined);
      if (!response) continue;
      const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
      pending = { Records: pending.Records.filter((r) => failed.has(r.messageId)) };
    }
  };
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < batches.length) {
        const batch = batches[next++]!;
        await Promise.all(handlers.map((handler) => deliverUntilDone(handler, batch)));
      }
    }),
  );
  return deliveries.length;
}

function consumer(name: string, handle: (event: EventEnvelope) => Promise<EffectOutcome>) {
  const outcomes = { applied: 0, duplicate: 0, skipped: 0, deferred: 0 };
  const handler = createEventConsumer({
    name,
    logger: new Logger({ logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: 'Test' }),
    handle: async (event) => {
      const outcome = await handle(event);
      outcomes[outcome]++;
      return outcome;
    },
  });
  return { handler, outcomes };
}

describe('Inbox: at-least-once delivery, exactly-once effect', () => {
  let tables: Awaited<ReturnType<typeof createTestTables>>;
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  beforeAll(async () => {
    tables = await createTestTables();
    receiver = await startWebhookReceiver();
  });
  afterAll(() => receiver.close());

  it(`turns ${EVENTS * DELIVERIES} deliveries of ${EVENTS} events into exactly ${EVENTS} effects per consumer`, async () => {
    // Many events per job, so delivery partitions hold many events each; every job wants webhooks.
    const events = Array.from({ length: EVENTS }, (_, i) =>
      sampleEvent({ ...sampleJob(`job_${String(i % JOB_COUNT).padStart(32, '0')}`), callbackUrl: receiver.url }),
    );
    const inbox = new DynamoInbox(tables.documentClient, tables.tableNames.inbox);
    // A deliberately non-idempotent effect (ADD 1): any duplicate that slipped through would show in the total.
    const counting = consumer('counting', (event) =>
      inbox.applyOnce('counting', event.id, [
        { Update: { TableName: tables.tableNames.counters, Key: { scope: 'effects', shard: 0 }, UpdateExpression: 'ADD applied :one', ExpressionAttributeValues: { ':one': 1 } } },
      ]),
    );
    const webhooks = consumer(
      'webhooks',
      webhookEffect({
        inbox,
        secrets: new TenantSecrets(tables.documentClient, tables.tableNames.tenants),
        deliveries: new WebhookDeliveries(tables.documentClient, tables.tableNames.webhookDeliveries),
        policy: { allowHttp: true, allowLoopback: true, allowPrivate: false },
        leaseSeconds: 60,
        // A request that times out is sent again, by design (receivers dedupe on X-Forgeflow-Event-Id), and the
        // receiver answers from this busy process: at the 5 s default, a loaded machine once made 404 requests of 400.
        // What this test counts is the inbox's effects, so no request here may time out.
        delivery: { timeoutMs: 120_000 },
      }),
    );

    const delivered = await deliverEachThreeTimes(events, [counting.handler, webhooks.handler]);

    expect(delivered).toBe(EVENTS * DELIVERIES);
    for (const { outcomes } of [counting, webhooks]) {
      expect(outcomes).toEqual({ applied: EVENTS, duplicate: EVENTS * (DELIVERIES - 1), skipped: 0, deferred: 0 });
    }
    const { Item } = await tables.documentClient.send(new GetCommand({ TableName: tables.tableNames.counters, Key: { scope: 'effects', shard: 0 }, ConsistentRead: true }));
    expect(Item!.applied).toBe(EVENTS);
    expect(receiver.received).toHaveLength(EVENTS);
    expect(new Set(receiver.received.map((r) => r.eventId)).size).toBe(EVENTS);
    // Delivery attempts share a partition per job: each job's are exactly its events, once each.
    const jobId = events[0]!.subject;
    const { Items = [] } = await tables.documentClient.send(new QueryCommand({ TableName: tables.tableNames.webhookDeliveries, KeyConditionExpression: 'jobId = :j', ExpressionAttributeValues: { ':j': jobId } }));
    expect(sorted(Items.map((i) => String(i.eventId)))).toEqual(sorted(events.filter((e) => e.subject === jobId).map((e) => e.id)));
  }, 900_000);
});
