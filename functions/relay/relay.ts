import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { parseEvent, type EventEnvelope } from '../core/events.ts';
import type { EventPublisher } from '../core/ports.ts';
import { observationsOfEvent } from '../core/platform-metrics.ts';
import { emitMetric, emitObservations } from '../shared/platform-metrics.ts';

export class PoisonRecordError extends Error {
  override name = 'PoisonRecordError';
}

export class PublishFailedError extends Error {
  override name = 'PublishFailedError';
}

/** Reads the envelope an outbox row carries; a row that does not hold a valid event is poison. */
export function envelopeOf(record: DynamoDBRecord): EventEnvelope {
  const image = record.dynamodb?.NewImage;
  if (!image) throw new PoisonRecordError(`Stream record ${record.eventID} has no NewImage`);
  try {
    const row = unmarshall(image as Record<string, AttributeValue>);
    return parseEvent(JSON.parse(String(row.envelope)));
  } catch (error) {
    throw new PoisonRecordError(`Outbox row ${record.dynamodb?.SequenceNumber} does not hold a valid event`, { cause: error });
  }
}

/** Only new outbox rows are events to relay; TTL deletions (REMOVE) and updates are not. */
export const isRelayable = (record: DynamoDBRecord) => record.eventName === 'INSERT';

/** The event a stream record holds for the relay, if any; throws PoisonRecordError when it holds a broken one. */
export type EventOfRecord = (record: DynamoDBRecord) => EventEnvelope | undefined;

/** An outbox stream record's event: a new row's. */
export const outboxEvent: EventOfRecord = (record) => (isRelayable(record) ? envelopeOf(record) : undefined);

interface PublishedBatch {
  errors: Map<string, Error>;
  envelopes: EventEnvelope[];
  /** Event id → the sequence number of its record. */
  bySequence: Map<string, string>;
  refused: Set<string>;
}

/**
 * Publishes the event of every record that holds one (`eventOf`) in one `publish` call and returns, per sequence
 * number, the error that record should fail with (absent: done). Publishing the whole batch first, rather than
 * record by record, lets one PutEvents call carry ten events.
 */
export async function publishBatch(records: readonly DynamoDBRecord[], eventOf: EventOfRecord, publisher: EventPublisher): Promise<PublishedBatch> {
  const errors = new Map<string, Error>();
  const bySequence = new Map<string, string>();
  const envelopes: EventEnvelope[] = [];
  for (const record of records) {
    const sequence = record.dynamodb?.SequenceNumber ?? '';
    try {
      const envelope = eventOf(record);
      if (!envelope) continue;
      envelopes.push(envelope);
      bySequence.set(envelope.id, sequence);
    } catch (error) {
      errors.set(sequence, error as Error);
    }
  }
  const { failed } = await publisher.publish(envelopes);
  for (const failure of failed) {
    const sequence = bySequence.get(failure.eventId);
    if (sequence !== undefined) {
      errors.set(sequence, new PublishFailedError(`${failure.eventId} refused: ${failure.errorCode} ${failure.errorMessage}`));
    }
  }
  return { errors, envelopes, bySequence, refused: new Set(failed.map((f) => f.eventId)) };
}

/**
 * Publishes every outbox event of a stream batch to the bus (`publishBatch`). With `metrics`, it emits what it
 * relayed (`relayMetrics`) and what the events stand for (`countOnce`).
 */
export async function relayBatch(records: readonly DynamoDBRecord[], publisher: EventPublisher, metrics?: Metrics): Promise<Map<string, Error>> {
  const { errors, envelopes, bySequence, refused } = await publishBatch(records, outboxEvent, publisher);
  const publishedAt = Date.now();
  if (metrics) {
    relayMetrics(metrics, envelopes.filter((e) => !refused.has(e.id)), errors.size, publishedAt);
    for (const event of countOnce(records, envelopes, bySequence, errors)) emitObservations(metrics, observationsOfEvent(event));
  }
  return errors;
}

/**
 * The events whose platform metrics (jobs submitted, succeeded, failed by reason, run durations...) this batch
 * counts: those before its first failed record. Lambda checkpoints a stream at the lowest failed sequence number
 * and retries from there, so what follows a failure is published again and counted then; what precedes it is
 * never read again. Each event is therefore counted once, with no inbox (decision 0010).
 */
function countOnce(records: readonly DynamoDBRecord[], envelopes: readonly EventEnvelope[], bySequence: ReadonlyMap<string, string>, errors: ReadonlyMap<string, Error>): EventEnvelope[] {
  const firstFailure = records.findIndex((record) => errors.has(record.dynamodb?.SequenceNumber ?? ''));
  if (firstFailure === -1) return [...envelopes];
  const before = new Set(records.slice(0, firstFailure).map((record) => record.dynamodb?.SequenceNumber ?? ''));
  return envelopes.filter((event) => before.has(bySequence.get(event.id) ?? ''));
}

/**
 * EventsRelayed and RelayFailures per batch (TTL removals are neither), and OutboxLag per published event: from its
 * `time`, set when its transaction committed, to the end of the PutEvents calls. A clock behind the writer's would
 * give a negative lag; it reads as none.
 */
function relayMetrics(metrics: Metrics, published: readonly EventEnvelope[], failures: number, publishedAt: number): void {
  emitMetric(metrics, 'EventsRelayed', published.length, {});
  if (failures > 0) emitMetric(metrics, 'RelayFailures', failures, {});
  for (const event of published) emitMetric(metrics, 'OutboxLag', Math.max(0, publishedAt - Date.parse(event.time)), {});
}
