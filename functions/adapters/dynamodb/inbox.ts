import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { INBOX_RETENTION_SECONDS } from '../../declarations/tables.ts';
import { transactWrite, type TransactItems } from './transact.ts';

export type InboxOutcome = 'applied' | 'duplicate';

/** Another delivery of the same event holds the claim; the queue brings this message back after its timeout. */
export class EffectInProgressError extends Error {
  override name = 'EffectInProgressError';
}
export type ClaimOutcome = 'claimed' | 'done' | 'in-progress';

/**
 * The consumer inbox: `(consumer, eventId)` may be claimed once. Delivery is at least once; the claim makes the
 * effect happen once.
 * - A DynamoDB effect commits in the same transaction as its claim (`applyOnce`): both or neither.
 * - An external effect (an HTTP call) cannot join a transaction, so it is claimed first with a lease
 *   (`claim` → effect → `complete`, or `release` on failure). A worker that dies mid-effect leaves a claim whose
 *   lease runs out and is taken over; the effect itself is keyed (the event id travels with it) so that rare
 *   repeat is harmless to the receiver.
 */
export class DynamoInbox {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  private key(consumer: string, eventId: string) {
    return { claimKey: `${consumer}#${eventId}` };
  }

  private expiresAt(): number {
    return Math.floor(this.now() / 1000) + INBOX_RETENTION_SECONDS;
  }

  /** The conditional put that claims an event; put it first in a transaction with the effect. */
  claimItem(consumer: string, eventId: string): TransactItems[number] {
    return {
      Put: {
        TableName: this.tableName,
        Item: { ...this.key(consumer, eventId), consumer, eventId, status: 'DONE', claimedAt: new Date(this.now()).toISOString(), expiresAt: this.expiresAt() },
        ConditionExpression: 'attribute_not_exists(claimKey)',
      },
    };
  }

  async applyOnce(consumer: string, eventId: string, effects: TransactItems): Promise<InboxOutcome> {
    try {
      await transactWrite(this.client, [this.claimItem(consumer, eventId), ...effects]);
      return 'applied';
    } catch (error) {
      if (error instanceof TransactionCanceledException && error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed') {
        return 'duplicate';
      }
      throw error;
    }
  }

  /** Claims an event for an external effect; a stale IN_PROGRESS claim (expired lease) is taken over. */
  async claim(consumer: string, eventId: string, leaseSeconds: number): Promise<ClaimOutcome> {
    const now = this.now();
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...this.key(consumer, eventId), consumer, eventId, status: 'IN_PROGRESS', leaseUntil: now + leaseSeconds * 1000, claimedAt: new Date(now).toISOString(), expiresAt: this.expiresAt() },
          ConditionExpression: 'attribute_not_exists(claimKey) OR (#status = :inProgress AND leaseUntil < :now)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':inProgress': 'IN_PROGRESS', ':now': now },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return 'claimed';
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return error.Item?.status?.S === 'DONE' ? 'done' : 'in-progress';
    }
  }

  async complete(consumer: string, eventId: string): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: this.key(consumer, eventId),
        UpdateExpression: 'SET #status = :done REMOVE leaseUntil',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':done': 'DONE' },
      }),
    );
  }

  /**
   * Runs an external effect at most once per (consumer, event) while claims hold: claim, effect, complete; a failed
   * effect releases the claim and rethrows, so the redelivery tries again.
   */
  async runExternalOnce(consumer: string, eventId: string, leaseSeconds: number, effect: () => Promise<void>): Promise<InboxOutcome> {
    const claim = await this.claim(consumer, eventId, leaseSeconds);
    if (claim === 'done') return 'duplicate';
    if (claim === 'in-progress') throw new EffectInProgressError(`Event ${eventId} is being handled by another delivery of ${consumer}`);
    try {
      await effect();
    } catch (error) {
      await this.release(consumer, eventId);
      throw error;
    }
    await this.complete(consumer, eventId);
    return 'applied';
  }

  /** Gives a claim back after a failed effect, so the redelivery can try again at once. */
  async release(consumer: string, eventId: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: this.key(consumer, eventId),
          ConditionExpression: '#status = :inProgress',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':inProgress': 'IN_PROGRESS' },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
}
