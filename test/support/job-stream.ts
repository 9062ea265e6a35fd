import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { DynamoOutboxAppender } from '../../functions/adapters/dynamodb/outbox-appender.ts';
import type { EventPublisher } from '../../functions/core/ports.ts';
import { forwardBatch } from '../../functions/relay/forward.ts';
import { toLambdaRecord } from '../../local/stream-poller.ts';
import { localClientConfig } from './dynamodb.ts';

/** Every record the table's stream holds now, from the start of each shard. */
export async function readWholeStream(tableName: string, documentClient: DynamoDBDocumentClient): Promise<DynamoDBRecord[]> {
  const { Table } = await documentClient.send(new DescribeTableCommand({ TableName: tableName }));
  const streamArn = Table!.LatestStreamArn!;
  const streams = new DynamoDBStreamsClient(localClientConfig());
  try {
    const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
    const records: DynamoDBRecord[] = [];
    for (const shard of StreamDescription?.Shards ?? []) {
      const start = await streams.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }));
      for (let iterator = start.ShardIterator; iterator; ) {
        const out = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
        records.push(...(out.Records ?? []).map((record) => toLambdaRecord(record, streamArn)));
        // An open shard keeps answering with an iterator; an empty read is its end for now.
        if ((out.Records ?? []).length === 0) break;
        iterator = out.NextShardIterator;
      }
    }
    return records;
  } finally {
    streams.destroy();
  }
}

/** A bus that takes every event and keeps none: the tests that forward read the outbox, not the bus. */
const noBus: EventPublisher = { publish: async () => ({ failed: [] }) };

/**
 * What the relay does with the jobs table's stream, run now over all of it: the events that job writes of their own
 * carry land in the outbox (and on `publisher`). Forwarding an event twice changes nothing in the outbox, so tests may
 * call it as often as they read.
 */
export async function forwardCarriedEvents(tables: { tableNames: { jobs: string; outbox: string }; documentClient: DynamoDBDocumentClient }, publisher = noBus): Promise<void> {
  const records = await readWholeStream(tables.tableNames.jobs, tables.documentClient);
  const errors = await forwardBatch(records, { outbox: new DynamoOutboxAppender(tables.documentClient, { tableName: tables.tableNames.outbox }), publisher });
  if (errors.size > 0) throw new Error(`forwarding failed: ${[...errors.values()].map((e) => e.message).join('; ')}`);
}
