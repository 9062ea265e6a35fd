import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { WaitingJobs, WaitingRun } from '../../core/admission.ts';
import { slotKey } from './job-store.ts';
import { transactWrite } from './transact.ts';

/**
 * Parked job runs in the waiting-jobs table, one partition per tenant sorted by waitKey. Parking is one
 * transaction: the entry, and a check that the tenant's slot item is still full. A release commits its slot
 * decrement on that same item, so either the park sees the freed slot (and the run claims at once) or the release
 * came after it, and its event admits the run: no wake-up can be lost between the two.
 */
export class DynamoWaitingJobs implements WaitingJobs {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tables: { waiting: string; counters: string },
  ) {}

  async park(entry: WaitingRun, limit: number): Promise<'parked' | 'slot-free'> {
    try {
      // Each WaitForSlot visit has its own token, so a repeat of this very call is the same request.
      const token = createHash('sha256').update(entry.taskToken).digest('hex').slice(0, 36);
      await transactWrite(
        this.client,
        [
          { ConditionCheck: { TableName: this.tables.counters, Key: slotKey(entry.tenantId), ConditionExpression: 'inUse >= :limit', ExpressionAttributeValues: { ':limit': limit } } },
          { Put: { TableName: this.tables.waiting, Item: { ...entry } } },
        ],
        Math.random,
        token,
      );
      return 'parked';
    } catch (error) {
      if (error instanceof TransactionCanceledException && error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed') return 'slot-free';
      throw error;
    }
  }

  async first(tenantId: string, count: number): Promise<WaitingRun[]> {
    const { Items = [] } = await this.client.send(
      new QueryCommand({
        TableName: this.tables.waiting,
        KeyConditionExpression: 'tenantId = :t',
        ExpressionAttributeValues: { ':t': tenantId },
        ConsistentRead: true,
        Limit: count,
      }),
    );
    return Items as WaitingRun[];
  }

  async remove(entry: Pick<WaitingRun, 'tenantId' | 'waitKey' | 'taskToken'>): Promise<void> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.tables.waiting,
          Key: { tenantId: entry.tenantId, waitKey: entry.waitKey },
          // The woken run may already have parked again under the same key, with a new token: that entry stays.
          ConditionExpression: 'taskToken = :token',
          ExpressionAttributeValues: { ':token': entry.taskToken },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
}
