import { GetRecordsCommand, GetShardIteratorCommand, type _Record, type DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { ChangeMessageVisibilityCommand, DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBRecord } from 'aws-lambda';
import type { EventEnvelope } from '../core/events.ts';
import type { EventPublisher } from '../core/ports.ts';
import { OnFailureMessageSchema, type OnFailureMessage } from './on-failure.ts';
import { carriedEvent, isJobsStreamBatch } from './forward.ts';
import { appendThenPublish, outboxEvent } from './relay.ts';

export interface ReplayDeps {
  sqs: SQSClient;
  failureQueueUrl: string;
  streams: DynamoDBStreamsClient;
  publisher: EventPublisher;
  /** Where the events that job writes carry are appended (the jobs stream's batches) before they are published. */
  outbox: EventPublisher;
  log?: (message: string) => void;
}

export interface ReplayReport {
  batches: number;
  republished: number;
  /** Outbox rows that do not hold a valid event: the batch stays in the queue for a person to look at. */
  poison: string[];
  /** Batches whose records the stream no longer holds (past its 24 h retention): left in the queue, reported. */
  expired: number;
  /** Events EventBridge still refused: their batch stays in the queue for the next replay. */
  stillFailing: string[];
}

/**
 * Re-publishes the outbox events of every batch the relay gave up on. It reads each discarded batch back from the
 * stream by its sequence numbers and publishes its events again; consumers take each event once (inbox), so a
 * replay of something that did arrive changes nothing. The events of a jobs-stream batch are appended to the outbox
 * first, as the relay does. A batch leaves the failure queue only when all of its events were published.
 */
export async function replayRelayFailures(deps: ReplayDeps): Promise<ReplayReport> {
  const report: ReplayReport = { batches: 0, republished: 0, poison: [], expired: 0, stillFailing: [] };
  // Messages kept for later stay hidden while this run goes on (or it would read them again), then show again.
  const kept: string[] = [];
  try {
    for (;;) {
      const { Messages = [] } = await deps.sqs.send(new ReceiveMessageCommand({ QueueUrl: deps.failureQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 300 }));
      if (Messages.length === 0) return report;
      for (const message of Messages) {
        report.batches += 1;
        const parsed = OnFailureMessageSchema.safeParse(safeJson(message.Body));
        const done = parsed.success ? await replayBatch(deps, parsed.data, report) : false;
        if (!parsed.success) deps.log?.(`message ${message.MessageId} is not an on-failure record; left in the queue`);
        if (done) await deps.sqs.send(new DeleteMessageCommand({ QueueUrl: deps.failureQueueUrl, ReceiptHandle: message.ReceiptHandle }));
        else kept.push(message.ReceiptHandle!);
      }
    }
  } finally {
    for (const handle of kept) await deps.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: deps.failureQueueUrl, ReceiptHandle: handle, VisibilityTimeout: 0 }));
  }
}

function safeJson(text: string | undefined): unknown {
  try {
    return JSON.parse(text ?? '');
  } catch {
    return undefined;
  }
}

async function replayBatch(deps: ReplayDeps, message: OnFailureMessage, report: ReplayReport): Promise<boolean> {
  let records: _Record[];
  try {
    records = await readRange(deps.streams, message.DDBStreamBatchInfo);
  } catch (error) {
    if ((error as Error).name !== 'TrimmedDataAccessException') throw error;
    report.expired += 1;
    return false;
  }
  const envelopes: EventEnvelope[] = [];
  let clean = true;
  // Same field names; only Keys and images (S/N values) are read.
  const fromJobs = isJobsStreamBatch(records as unknown as DynamoDBRecord[]);
  for (const record of records) {
    const lambdaRecord = record as unknown as DynamoDBRecord;
    try {
      const envelope = fromJobs ? carriedEvent(lambdaRecord) : outboxEvent(lambdaRecord);
      if (envelope) envelopes.push(envelope);
    } catch {
      report.poison.push(record.dynamodb?.SequenceNumber ?? '?');
      clean = false;
    }
  }
  // A job write's event goes to the outbox first (as a row already relayed), as the relay would have put it there.
  const { failed } = await appendThenPublish(envelopes, deps.publisher, fromJobs ? deps.outbox : undefined);
  report.republished += envelopes.length - failed.length;
  report.stillFailing.push(...failed.map((f) => f.eventId));
  return clean && failed.length === 0;
}

/** The records from start to end sequence number (inclusive) of one shard. */
async function readRange(streams: DynamoDBStreamsClient, batch: OnFailureMessage['DDBStreamBatchInfo']): Promise<_Record[]> {
  const { ShardIterator } = await streams.send(
    new GetShardIteratorCommand({ StreamArn: batch.streamArn, ShardId: batch.shardId, ShardIteratorType: 'AT_SEQUENCE_NUMBER', SequenceNumber: batch.startSequenceNumber }),
  );
  const end = BigInt(batch.endSequenceNumber);
  const records: _Record[] = [];
  for (let iterator = ShardIterator, reads = 0; iterator && reads < 100; reads++) {
    const out = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
    for (const record of out.Records ?? []) {
      if (BigInt(record.dynamodb?.SequenceNumber ?? '0') > end) return records;
      records.push(record);
    }
    if ((out.Records ?? []).length === 0 && records.length > 0) return records;
    iterator = out.NextShardIterator;
  }
  return records;
}
