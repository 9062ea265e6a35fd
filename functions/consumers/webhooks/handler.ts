import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import * as z from 'zod';
import { createDocumentClient } from '../../adapters/dynamodb/client.ts';
import { DynamoInbox } from '../../adapters/dynamodb/inbox.ts';
import { AlertSubscriptions, TenantSecrets } from '../../adapters/dynamodb/tenant-secrets.ts';
import { METRICS_NAMESPACE } from '../../declarations/metrics.ts';
import { WEBHOOKS_QUEUE } from '../../declarations/queues.ts';
import { INBOX_TABLE, TENANTS_TABLE, WEBHOOK_DELIVERIES_TABLE } from '../../declarations/tables.ts';
import { readConfig, readTableNames } from '../../shared/config.ts';
import { createEventConsumer } from '../consumer.ts';
import { WebhookDeliveries } from './deliveries.ts';
import { WEBHOOKS_CONSUMER, webhookEffect } from './webhook-consumer.ts';

const flag = z.enum(['true', 'false']).default('false').transform((v) => v === 'true');

// In AWS all three stay false: https only, public addresses only. The local runtime allows http to loopback.
const tableName = readTableNames([INBOX_TABLE, TENANTS_TABLE, WEBHOOK_DELIVERIES_TABLE]);
const config = readConfig({
  WEBHOOK_ALLOW_HTTP: flag,
  WEBHOOK_ALLOW_LOOPBACK: flag,
  WEBHOOK_ALLOW_PRIVATE: flag,
});
const client = createDocumentClient();
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'forgeflow-webhooks' });

export const handler = createEventConsumer({
  name: WEBHOOKS_CONSUMER,
  logger: new Logger({ serviceName: 'forgeflow-webhooks' }),
  metrics,
  handle: webhookEffect({
    inbox: new DynamoInbox(client, tableName(INBOX_TABLE)),
    secrets: new TenantSecrets(client, tableName(TENANTS_TABLE)),
    alerts: new AlertSubscriptions(client, tableName(TENANTS_TABLE)),
    deliveries: new WebhookDeliveries(client, tableName(WEBHOOK_DELIVERIES_TABLE)),
    policy: { allowHttp: config.WEBHOOK_ALLOW_HTTP, allowLoopback: config.WEBHOOK_ALLOW_LOOPBACK, allowPrivate: config.WEBHOOK_ALLOW_PRIVATE },
    leaseSeconds: WEBHOOKS_QUEUE.visibilityTimeoutSeconds,
    metrics,
  }),
});
