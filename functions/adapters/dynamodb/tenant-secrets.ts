import { randomBytes } from 'node:crypto';
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';

/**
 * Per-tenant webhook signing secrets, created on first use. They live in the tenants table, which is encrypted
 * at rest with the platform's KMS key; they are never put in environment variables or logs.
 */
export class TenantSecrets {
  private readonly cache = new Map<string, string>();

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** The worker-alert subscriptions, which live in the same table. */
  alertSubscriptions(): AlertSubscriptions {
    return new AlertSubscriptions(this.client, this.tableName);
  }

  async webhookSecret(tenantId: string): Promise<string> {
    const cached = this.cache.get(tenantId);
    if (cached) return cached;
    const secret = (await this.read(tenantId)) ?? (await this.create(tenantId));
    this.cache.set(tenantId, secret);
    return secret;
  }

  private async read(tenantId: string): Promise<string | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { tenantId }, ConsistentRead: true }));
    return typeof Item?.webhookSecret === 'string' ? Item.webhookSecret : undefined;
  }

  /** Two concurrent first uses race on a conditional put; the loser reads the winner's secret. */
  private async create(tenantId: string): Promise<string> {
    const secret = `whsec_${randomBytes(32).toString('base64url')}`;
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { tenantId, webhookSecret: secret, createdAt: new Date().toISOString() },
          ConditionExpression: 'attribute_not_exists(tenantId) OR attribute_not_exists(webhookSecret)',
        }),
      );
      return secret;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const existing = await this.read(tenantId);
      if (!existing) throw error;
      return existing;
    }
  }
}

/** Tenant ids never start with `_` (see PLATFORM_TENANT): this item can be no tenant's. */
const ALERT_SUBSCRIPTIONS_KEY = { tenantId: '_worker-alert-webhooks' };

export interface AlertSubscription {
  tenantId: string;
  url: string;
}

/**
 * Which tenants asked for the fleet's worker alerts (WorkerThresholdExceeded and Cleared) at which URL: one item,
 * a map of tenant → URL, so a delivery reads every subscriber with one GetItem rather than a Scan of the tenants.
 * One item holds about 2,000 subscriptions of 200-character URLs (400 KB).
 */
export class AlertSubscriptions {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async list(): Promise<AlertSubscription[]> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: ALERT_SUBSCRIPTIONS_KEY, ConsistentRead: true }));
    const map = (Item?.subscribers ?? {}) as Record<string, string>;
    return Object.entries(map).map(([tenantId, url]) => ({ tenantId, url }));
  }

  async get(tenantId: string): Promise<string | undefined> {
    return (await this.list()).find((s) => s.tenantId === tenantId)?.url;
  }

  /** Sets (a URL) or removes (undefined) one tenant's subscription; the map is created on first use. */
  async set(tenantId: string, url: string | undefined): Promise<void> {
    if (url === undefined) {
      await this.client.send(new UpdateCommand({ TableName: this.tableName, Key: ALERT_SUBSCRIPTIONS_KEY, UpdateExpression: 'REMOVE subscribers.#t', ConditionExpression: 'attribute_exists(subscribers)', ExpressionAttributeNames: { '#t': tenantId } })).catch((error: unknown) => {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      });
      return;
    }
    // Two writes: a map must exist before one of its keys can be set, and if_not_exists cannot share a path with it.
    await this.client.send(new UpdateCommand({ TableName: this.tableName, Key: ALERT_SUBSCRIPTIONS_KEY, UpdateExpression: 'SET subscribers = if_not_exists(subscribers, :empty)', ExpressionAttributeValues: { ':empty': {} } }));
    await this.client.send(new UpdateCommand({ TableName: this.tableName, Key: ALERT_SUBSCRIPTIONS_KEY, UpdateExpression: 'SET subscribers.#t = :url', ExpressionAttributeNames: { '#t': tenantId }, ExpressionAttributeValues: { ':url': url } }));
  }
}
