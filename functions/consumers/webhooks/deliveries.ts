import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { queryPartition, type Page } from '../../adapters/dynamodb/partition-query.ts';
import { HISTORY_RETENTION_SECONDS } from '../../declarations/tables.ts';
import type { RecordedAttempt } from './delivery-record.ts';

/** The record of every webhook delivery attempt, per job, for users debugging their receivers. */
export class WebhookDeliveries {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async record(attempt: RecordedAttempt): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...attempt,
          // Event ids are ULIDs, so the sort key orders attempts by event and then by attempt number.
          deliveryKey: `${attempt.eventId}#${String(attempt.attempt).padStart(3, '0')}#${attempt.at}`,
          expiresAt: Math.floor(Date.parse(attempt.at) / 1000) + HISTORY_RETENTION_SECONDS,
        },
      }),
    );
  }

  list(jobId: string, limit: number, cursor?: string): Promise<Page<RecordedAttempt>> {
    return queryPartition(this.client, this.tableName, { partition: { name: 'jobId', value: jobId }, limit, cursor }, ({ deliveryKey: _k, expiresAt: _e, ...item }) => item as unknown as RecordedAttempt);
  }
}
