import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { parseEvent, type EventEnvelope } from '../core/events.ts';
import type { EventPublisher, PublishOutcome } from '../core/ports.ts';
import { RELAYED_ROW_ATTRIBUTE } from '../adapters/dynamodb/outbox-item.ts';
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

/**
 * Only new outbox rows are events to relay; TTL deletions (REMOVE) and updates are not, nor a row the relay appended
 * itself after publishing its event from the jobs stream (RELAYED_ROW_ATTRIBUTE).
 */
export const isRelayable = (record: DynamoDBRecord) => record.eventName === 'INSERT' && record.dynamodb?.NewImage?.[RELAYED_ROW_ATTRIBUTE] === undefined;

/** The event a stream record holds for the relay, if any; throws PoisonRecordError when it holds a broken one. */
export type EventOfRecord = (record: DynamoDBRecord) => EventEnvelope | undefined;

/** An outbox stream record's event: a new row's. */
export const outboxEvent: EventOfRecord = (record) => (isRelayable(record) ? envelopeOf(record) : undefined);

export interface RelayOptions {
  /** How a record's event is read. Default: an outbox row's (`outboxEvent`). */
  eventOf?: EventOfRecord;
  /** Where each event is appended before it is published (the outbox, for the events job writes carry). */
  appendFirst?: EventPublisher;
  /** With metrics, it emits what it relayed (`relayMetrics`) and what the events stand for (`countOnce`). */
  metrics?: Metrics;
}

/**
 * Publishes the event of every record that holds one, all in one `publish` call (ten events per PutEvents), after
 * appending them with `appendFirst` when given (an event it did not take is not published), and returns, per
 * sequence number, the error that record should fail with (absent: done).
 */
export async function relayBatch(records: readonly DynamoDBRecord[], publisher: EventPublisher, options: RelayOptions = {}): Promise<Map<string, Error>> {
  const errors = new Map<string, Error>();
  const bySequence = new Map<string, string>();
  const envelopes: EventEnvelope[] = [];
  for (const record of records) {
    const sequence = record.dynamodb?.SequenceNumber ?? '';
    try {
      const envelope = (options.eventOf ?? outboxEvent)(record);
      if (!envelope) continue;
      envelopes.push(envelope);
      bySequence.set(envelope.id, sequence);
    } catch (error) {
      errors.set(sequence, error as Error);
    }
  }
  const { failed, published } = await appendThenPublish(envelopes, publisher, options.appendFirst);
  for (const failure of failed) {
    const sequence = bySequence.get(failure.eventId);
    if (sequence !== undefined) errors.set(sequence, new PublishFailedError(`${failure.where} refused ${failure.eventId}: ${failure.errorCode} ${failure.errorMessage}`));
  }
  const publishedAt = Date.now();
  if (options.metrics) {
    relayMetrics(options.metrics, published, errors.size, publishedAt);
    for (const event of countOnce(records, envelopes, bySequence, errors)) emitObservations(options.metrics, observationsOfEvent(event));
  }
  return errors;
}

/**
 * Appends `envelopes` with `appendFirst`, when given, and publishes those it took: an event is on the bus only once it
 * is in the history, as with an outbox row. Returns what failed, and where, and what was published.
 */
export async function appendThenPublish(
  envelopes: readonly EventEnvelope[],
  publisher: EventPublisher,
  appendFirst?: EventPublisher,
): Promise<{ failed: (PublishOutcome['failed'][number] & { where: 'The outbox' | 'PutEvents' })[]; published: EventEnvelope[] }> {
  const notAppended = appendFirst ? (await appendFirst.publish(envelopes)).failed.map((f) => ({ ...f, where: 'The outbox' as const })) : [];
  const toPublish = envelopes.filter((e) => !notAppended.some((f) => f.eventId === e.id));
  const refused = (await publisher.publish(toPublish)).failed.map((f) => ({ ...f, where: 'PutEvents' as const }));
  return { failed: [...notAppended, ...refused], published: toPublish.filter((e) => !refused.some((f) => f.eventId === e.id)) };
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
