import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { decodeCursor, encodeCursor } from './cursor.ts';

export interface Page<T> {
  items: T[];
  nextCursor?: string;
}

/**
 * One page of a table partitioned by job id (history rows, delivery attempts), in sort-key order, with the same
 * opaque cursor as the job list: a cursor for another job's partition is refused.
 */
export async function queryJobPartition<T>(
  client: DynamoDBDocumentClient,
  tableName: string,
  page: { jobId: string; limit: number; cursor?: string },
  toItem: (item: Record<string, unknown>) => T,
): Promise<Page<T>> {
  const result = await client.send(
    new QueryCommand({
      TableName: tableName,
      KeyConditionExpression: 'jobId = :jobId',
      ExpressionAttributeValues: { ':jobId': page.jobId },
      ScanIndexForward: true,
      Limit: page.limit,
      ExclusiveStartKey: page.cursor ? decodeCursor(page.cursor, { name: 'jobId', value: page.jobId }) : undefined,
      ConsistentRead: true,
    }),
  );
  const items = (result.Items ?? []).map(toItem);
  return result.LastEvaluatedKey ? { items, nextCursor: encodeCursor(result.LastEvaluatedKey) } : { items };
}
