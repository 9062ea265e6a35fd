import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { TransactWriteCommand, type DynamoDBDocumentClient, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';

export type TransactItems = NonNullable<TransactWriteCommandInput['TransactItems']>;

/** Transactions that collide on an item are cancelled with TransactionConflict; these are worth a quick retry. */
const MAX_TRANSACTION_CONFLICT_RETRIES = 8;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs TransactWriteItems, retrying (with full jitter) while the only trouble is a conflict with another
 * transaction. Any other cancellation, a failed condition included, is thrown for the caller to interpret.
 *
 * `idempotencyToken` becomes the ClientRequestToken: when a call that DynamoDB applied is repeated (the SDK retries
 * after a timeout or a lost answer, or we do after a conflict), DynamoDB answers success for the same token within
 * ten minutes instead of evaluating the conditions again, which would report a conflict for our own write.
 */
export async function transactWrite(client: DynamoDBDocumentClient, items: TransactItems, random: () => number = Math.random, idempotencyToken?: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await client.send(new TransactWriteCommand({ TransactItems: items, ...(idempotencyToken ? { ClientRequestToken: idempotencyToken } : {}) }));
      return;
    } catch (error) {
      const retryable =
        error instanceof TransactionCanceledException &&
        !error.CancellationReasons?.some((r) => r.Code === 'ConditionalCheckFailed') &&
        error.CancellationReasons?.some((r) => r.Code === 'TransactionConflict');
      if (!retryable || attempt > MAX_TRANSACTION_CONFLICT_RETRIES) throw error;
      // Full jitter, so the losers of one collision do not collide again in lockstep.
      await sleep(random() * 10 * 2 ** attempt);
    }
  }
}

/** The cancellation reason DynamoDB gave for item `index` of a cancelled transaction, if that is what failed. */
export function cancellationReason(error: unknown, index: number) {
  return error instanceof TransactionCanceledException ? error.CancellationReasons?.[index] : undefined;
}
