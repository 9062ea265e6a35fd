import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { OverdueJobs } from '../../core/reconciler.ts';
import { JobStatus } from '../../core/job-status.ts';
import { JOBS_BY_OVERDUE, OVERDUE_JOB_SHARDS } from '../../declarations/tables.ts';
import { overdueShardKey, type OverdueKind } from './job-item.ts';

/**
 * Jobs past their overdue time, from the sparse byOverdue index: one Query per shard, oldest first, so a sweep
 * costs a few reads whatever the number of jobs (only held jobs and queued runs not yet claimed are in the index,
 * and the overdue ones are rare).
 */
export class DynamoOverdueJobs implements OverdueJobs {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly jobsTable: string,
  ) {}

  overdue(now: Date, limit: number): Promise<string[]> {
    return this.pastDue('held', now, limit);
  }

  queuedPastDue(now: Date, limit: number): Promise<string[]> {
    return this.pastDue('queued', now, limit);
  }

  /**
   * Takes a queued run out of the index once its saga is known to have started, so a run that waits long (parked
   * for a slot) is looked at once. Only that run, still queued: anything else has left the index by its own write.
   */
  async clearQueuedDue(jobId: string, run: number): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.jobsTable,
          Key: { jobId },
          UpdateExpression: 'REMOVE #shard, #overdue',
          ConditionExpression: '#status = :queued AND #run = :run',
          ExpressionAttributeNames: { '#shard': JOBS_BY_OVERDUE.partitionKey.name, '#overdue': JOBS_BY_OVERDUE.sortKey.name, '#status': 'status', '#run': 'run' },
          ExpressionAttributeValues: { ':queued': JobStatus.QUEUED, ':run': run },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  private async pastDue(kind: OverdueKind, now: Date, limit: number): Promise<string[]> {
    const perShard = await Promise.all(
      Array.from({ length: OVERDUE_JOB_SHARDS }, async (_, shard) => {
        const result = await this.client.send(
          new QueryCommand({
            TableName: this.jobsTable,
            IndexName: JOBS_BY_OVERDUE.indexName,
            KeyConditionExpression: '#shard = :shard AND #overdue < :now',
            ExpressionAttributeNames: { '#shard': JOBS_BY_OVERDUE.partitionKey.name, '#overdue': JOBS_BY_OVERDUE.sortKey.name },
            ExpressionAttributeValues: { ':shard': overdueShardKey(kind, shard), ':now': now.toISOString() },
            Limit: limit,
          }),
        );
        return (result.Items ?? []).map((item) => String(item.jobId));
      }),
    );
    return perShard.flat().slice(0, limit);
  }
}
