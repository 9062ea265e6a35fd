import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { decodeCursor, encodeCursor } from './cursor.ts';

export interface Page<T> {
  items: T[];
  nextCursor?: string;
}

/**
 * One page of one partition (a job's delivery attempts, a subject's events), in sort-key order, with the same opaque
 * cursor as the job list: a cursor for another partition is refused. `partition` names the key and its value.
 */
export async function queryPartition<T>(
  client: DynamoDBDocumentClient,
  tableName: string,
  page: { partition: { name: string; value: string }; limit: number; cursor?: string },
  toItem: (item: Record<string, unknown>) => T,
): Promise<Page<T>> {
  const result = await client.send(
    new QueryCommand({
      TableName: tableName,
      KeyConditionExpression: '#partition = :partition',
      ExpressionAttributeNames: { '#partition': page.partition.name },
      ExpressionAttributeValues: { ':partition': page.partition.value },
      ScanIndexForward: true,
      Limit: page.limit,
      ExclusiveStartKey: page.cursor ? decodeCursor(page.cursor, page.partition) : undefined,
      ConsistentRead: true,
    }),
  );
  const items = (result.Items ?? []).map(toItem);
  return result.LastEvaluatedKey ? { items, nextCursor: encodeCursor(result.LastEvaluatedKey) } : { items };
}
