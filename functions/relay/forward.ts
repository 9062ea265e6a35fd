import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { DynamoDBRecord } from 'aws-lambda';
import { JOB_EVENT_ATTRIBUTE } from '../adapters/dynamodb/outbox-item.ts';
import { parseEvent } from '../core/events.ts';
import type { EventPublisher } from '../core/ports.ts';
import { PoisonRecordError, relayBatch, type EventOfRecord } from './relay.ts';

/** A jobs-table record rather than an outbox one: the two tables' keys tell them apart (jobId; subject and eventId). */
export const isJobRecord = (record: DynamoDBRecord) => record.dynamodb?.Keys?.jobId !== undefined;

/** A batch holds one shard's records, so one stream's: the jobs table's when its first record is. */
export const isJobsStreamBatch = (records: readonly DynamoDBRecord[]) => records[0] !== undefined && isJobRecord(records[0]);

/**
 * The event a job write carries (JOB_EVENT_ATTRIBUTE), if that write brought it: a later write that kept it has it in
 * its old image too. Only the store writes the attribute, and a repeat of its write is the same string.
 */
export const carriedEvent: EventOfRecord = (record) => {
  const carried = record.dynamodb?.NewImage?.[JOB_EVENT_ATTRIBUTE]?.S;
  if (carried === undefined || carried === record.dynamodb?.OldImage?.[JOB_EVENT_ATTRIBUTE]?.S) return undefined;
  try {
    return parseEvent(JSON.parse(carried));
  } catch (error) {
    throw new PoisonRecordError(`Job write ${record.dynamodb?.SequenceNumber} carries no valid event`, { cause: error });
  }
};

/**
 * Jobs stream → outbox and bus: appends the event each job write carries to the outbox, where it stays as the job's
 * history (marked relayed, so the outbox relay leaves it), then publishes it, one stream hop after the write as an
 * outbox row's event is. Returns, per sequence number, the error that record should fail with.
 */
export function forwardBatch(records: readonly DynamoDBRecord[], deps: { outbox: EventPublisher; publisher: EventPublisher; metrics?: Metrics }): Promise<Map<string, Error>> {
  return relayBatch(records, deps.publisher, { eventOf: carriedEvent, appendFirst: deps.outbox, ...(deps.metrics ? { metrics: deps.metrics } : {}) });
}
