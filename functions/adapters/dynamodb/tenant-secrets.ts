import { randomBytes } from 'node:crypto';
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
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
