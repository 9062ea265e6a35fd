import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoInbox } from '../../functions/adapters/dynamodb/inbox.ts';
import { TenantSecrets } from '../../functions/adapters/dynamodb/tenant-secrets.ts';
import { createEventConsumer } from '../../functions/consumers/consumer.ts';
import { WebhookDeliveries } from '../../functions/consumers/webhooks/deliveries.ts';
import { webhookEffect, WEBHOOKS_CONSUMER } from '../../functions/consumers/webhooks/webhook-consumer.ts';
import { workerEvent } from '../../functions/core/events.ts';
import { RULES } from '../../functions/declarations/events.ts';
import { WEBHOOKS_QUEUE } from '../../functions/declarations/queues.ts';
import { verifyWebhookSignature } from '../../functions/webhooks/signature.ts';
import { compilePattern } from '../../local/event-pattern.ts';
import { lambdaContext } from '../../local/lambda.ts';
import { createTestApi, tenantAdmin, type Caller } from '../support/api.ts';
import { sqsRecord } from '../support/events.ts';
import { startWebhookReceiver } from '../support/webhook-receiver.ts';

const context = lambdaContext('forgeflow-webhooks', 60_000);
const globexAdmin: Caller = { sub: 'gina', tenant: 'globex', groups: ['admin'] };
const worker = { workerId: 'w-01m8nrv99xatwktdbcaaanvhja', class: 'default', state: 'READY' as const, instanceId: 'i-0123456789abcdef0' };
const alert = () => workerEvent('WorkerThresholdExceeded', worker, 'READY', { metric: 'cpu', value: 97.5, threshold: 90, since: '2026-11-30T10:00:00.000Z' }, { time: '2026-11-30T10:00:00.000Z', correlationId: 'collect-1' });

describe('Worker alerts to tenants’ webhooks', () => {
  let api: Awaited<ReturnType<typeof createTestApi>>;
  let acme: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let globex: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let secrets: TenantSecrets;

  const consumer = () =>
    createEventConsumer({
      name: WEBHOOKS_CONSUMER,
      logger: new Logger({ logLevel: 'SILENT' }),
      metrics: new Metrics({ namespace: 'Test' }),
      handle: webhookEffect({
        inbox: new DynamoInbox(api.tables.documentClient, api.tables.tableNames.inbox),
        secrets,
        alerts: secrets.alertSubscriptions(),
        deliveries: new WebhookDeliveries(api.tables.documentClient, api.tables.tableNames.webhookDeliveries),
        policy: { allowHttp: true, allowLoopback: true, allowPrivate: false },
        leaseSeconds: 60,
        delivery: { maxAttempts: 1, timeoutMs: 2000 },
      }),
    });

  beforeAll(async () => {
    api = await createTestApi();
    secrets = new TenantSecrets(api.tables.documentClient, api.tables.tableNames.tenants);
  });
  afterAll(async () => {
    await acme?.close();
    await globex?.close();
  });

  it('reach the webhooks queue through their own rule', () => {
    const rules = RULES.filter((r) => r.target === WEBHOOKS_QUEUE && compilePattern(r.pattern)({ source: alert().source, 'detail-type': alert().type, detail: alert() }));
    expect(rules.map((r) => r.id)).toEqual(['WorkerAlertWebhooksRule']);
  });

  it("are opt-in per tenant: only its admins subscribe, read and unsubscribe, each tenant its own URL", async () => {
    expect((await api.call('POST', '/v1/webhooks/worker-alerts', { caller: { sub: 'al', tenant: 'acme' }, body: { url: 'https://example.com/hook' } })).status).toBe(403);
    expect((await api.call('POST', '/v1/webhooks/worker-alerts', { caller: tenantAdmin, body: { url: 'not a url' } })).status).toBe(400);
    expect((await api.call('GET', '/v1/webhooks/worker-alerts', { caller: tenantAdmin })).body).toMatchObject({ url: null });
    const set = await api.call('POST', '/v1/webhooks/worker-alerts', { caller: tenantAdmin, body: { url: 'https://example.com/acme' } });
    expect(set).toMatchObject({ status: 200, body: { url: 'https://example.com/acme', events: ['WorkerThresholdExceeded', 'WorkerThresholdCleared'] } });
    await api.call('POST', '/v1/webhooks/worker-alerts', { caller: globexAdmin, body: { url: 'https://example.com/globex' } });
    expect((await api.call('GET', '/v1/webhooks/worker-alerts', { caller: tenantAdmin })).body.url).toBe('https://example.com/acme');
    expect((await api.call('DELETE', '/v1/webhooks/worker-alerts', { caller: tenantAdmin })).status).toBe(204);
    expect(await secrets.alertSubscriptions().list()).toEqual([{ tenantId: 'globex', url: 'https://example.com/globex' }]);
    await api.call('DELETE', '/v1/webhooks/worker-alerts', { caller: globexAdmin });
    expect(await secrets.alertSubscriptions().list()).toEqual([]);
  });

  it('go to every subscribed tenant once, signed with its own secret; a failing receiver gets only its own retry', async () => {
    const event = alert();
    // No subscriber: nothing to do.
    expect((await consumer()({ Records: [sqsRecord(event)] }, context)).batchItemFailures).toEqual([]);
    acme = await startWebhookReceiver();
    globex = await startWebhookReceiver([503]);
    await api.call('POST', '/v1/webhooks/worker-alerts', { caller: tenantAdmin, body: { url: acme.url } });
    await api.call('POST', '/v1/webhooks/worker-alerts', { caller: globexAdmin, body: { url: globex.url } });
    const second = alert();
    const deliveries = [];
    // A batch whose every record failed rejects (Powertools' FullBatchFailureError): the message goes back, as a failure.
    for (let i = 0; i < 3; i++) deliveries.push(await consumer()({ Records: [sqsRecord(second)] }, context).then((r) => r.batchItemFailures.length, () => 1));
    expect(deliveries).toEqual([1, 0, 0]);
    expect(acme.received.map((r) => r.status)).toEqual([200]);
    expect(globex.received.map((r) => r.status)).toEqual([503, 200]);
    expect(verifyWebhookSignature(await secrets.webhookSecret('acme'), acme.received[0]!.body, acme.received[0]!.signature)).toBe(true);
    expect(verifyWebhookSignature(await secrets.webhookSecret('globex'), globex.received[1]!.body, globex.received[1]!.signature)).toBe(true);
    expect(verifyWebhookSignature(await secrets.webhookSecret('acme'), globex.received[1]!.body, globex.received[1]!.signature)).toBe(false);
    expect(JSON.parse(acme.received[0]!.body)).toMatchObject({ type: 'WorkerThresholdExceeded', data: { metric: 'cpu', value: 97.5 } });
  });
});
