import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { OverdueJobs } from '../../core/reconciler.ts';
import { HELD_JOB_SHARDS, JOBS_BY_OVERDUE } from '../../declarations/tables.ts';
import { heldShardKey } from './job-item.ts';

/**
 * Held jobs past their overdue time, from the sparse byOverdue index: one Query per shard, oldest first, so a sweep
 * costs a few reads whatever the number of jobs (only held jobs are in the index, and the overdue ones are rare).
 */
export class DynamoOverdueJobs implements OverdueJobs {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly jobsTable: string,
  ) {}

  async overdue(now: Date, limit: number): Promise<string[]> {
    const perShard = await Promise.all(
      Array.from({ length: HELD_JOB_SHARDS }, async (_, shard) => {
        const result = await this.client.send(
          new QueryCommand({
            TableName: this.jobsTable,
            IndexName: JOBS_BY_OVERDUE.indexName,
            KeyConditionExpression: '#shard = :shard AND #overdue < :now',
            ExpressionAttributeNames: { '#shard': JOBS_BY_OVERDUE.partitionKey.name, '#overdue': JOBS_BY_OVERDUE.sortKey.name },
            ExpressionAttributeValues: { ':shard': heldShardKey(shard), ':now': now.toISOString() },
            Limit: limit,
          }),
        );
        return (result.Items ?? []).map((item) => String(item.jobId));
      }),
    );
    return perShard.flat().slice(0, limit);
  }
}
