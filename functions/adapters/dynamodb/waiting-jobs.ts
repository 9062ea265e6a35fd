import { createHash } from 'node:crypto';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { WaitingJobs, WaitingRun } from '../../core/admission.ts';
import { slotKey } from './job-counters.ts';
import { transactWrite, type TransactItems } from './transact.ts';

/**
 * Parked job runs in the waiting-jobs table, one partition per tenant sorted by waitKey. Parking is one
 * transaction: the entry, and a check that the tenant's slot item is still full. A release commits its slot
 * decrement on that same item, so either the park sees the freed slot (and the run claims at once) or the release
 * came after it, and its event admits the run: no wake-up can be lost between the two.
 *
 * The slot item also counts the entries (`parked`), in the same transactions that add and remove them, so that a
 * release can tell, in its own commit, whether anyone waits (DynamoJobStore, noneParked): when nobody does, its event
 * says so and admission skips it. A run woken and parked again under the same key is counted once.
 */
export class DynamoWaitingJobs implements WaitingJobs {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tables: { waiting: string; counters: string },
  ) {}

  async park(entry: WaitingRun, limit: number): Promise<'parked' | 'slot-free'> {
    // Each WaitForSlot visit has its own token, so a repeat of this very call is the same request.
    const token = (variant: string) => createHash('sha256').update(`${entry.taskToken}#${variant}`).digest('hex').slice(0, 36);
    const full = { ConditionExpression: 'inUse >= :limit', ExpressionAttributeValues: { ':limit': limit } };
    const key = slotKey(entry.tenantId);
    for (let attempt = 1; attempt <= 3; attempt++) {
      // A new entry adds to the count; one already there (the same run parking again) is replaced and not counted twice.
      const counted = [
        { Update: { TableName: this.tables.counters, Key: key, UpdateExpression: 'ADD parked :one', ...full, ExpressionAttributeValues: { ...full.ExpressionAttributeValues, ':one': 1 } } },
        { Put: { TableName: this.tables.waiting, Item: { ...entry }, ConditionExpression: 'attribute_not_exists(waitKey)' } },
      ];
      const replaced = [
        { ConditionCheck: { TableName: this.tables.counters, Key: key, ...full } },
        { Put: { TableName: this.tables.waiting, Item: { ...entry }, ConditionExpression: 'attribute_exists(waitKey)' } },
      ];
      for (const [items, variant] of [[counted, 'new'], [replaced, 'again']] as const) {
        const failed = await this.tryWrite([...items], token(variant));
        if (failed === undefined) return 'parked';
        if (failed === 0) return 'slot-free';
      }
    }
    throw new Error(`Parking ${entry.jobId} kept racing with its own entry's removal`);
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
    const token = createHash('sha256').update(`${entry.taskToken}#remove`).digest('hex').slice(0, 36);
    await this.tryWrite(
      [
        // The woken run may already have parked again under the same key, with a new token: that entry stays.
        { Delete: { TableName: this.tables.waiting, Key: { tenantId: entry.tenantId, waitKey: entry.waitKey }, ConditionExpression: 'taskToken = :token', ExpressionAttributeValues: { ':token': entry.taskToken } } },
        { Update: { TableName: this.tables.counters, Key: slotKey(entry.tenantId), UpdateExpression: 'ADD parked :minusOne', ExpressionAttributeValues: { ':minusOne': -1 } } },
      ],
      token,
    );
  }

  /** The transaction, or the index of the item whose condition failed. */
  private async tryWrite(items: TransactItems, token: string): Promise<number | undefined> {
    try {
      await transactWrite(this.client, items, Math.random, token);
      return undefined;
    } catch (error) {
      const failed = error instanceof TransactionCanceledException ? (error.CancellationReasons ?? []).findIndex((r) => r.Code === 'ConditionalCheckFailed') : -1;
      if (failed < 0) throw error;
      return failed;
    }
  }
}
