import type { EventEnvelope } from '../../core/events.ts';
import { HISTORY_RETENTION_SECONDS } from '../../declarations/tables.ts';
import type { TransactItems } from './transact.ts';

/**
 * Marks an outbox row the relay appended after it published the event itself, from the jobs stream: the outbox relay
 * skips it, so the event is not published twice by design (decision 0022).
 */
export const RELAYED_ROW_ATTRIBUTE = 'relayed';

/**
 * Which outbox stream records reach the relay: new rows it did not append itself (functions/relay/relay.ts
 * isRelayable, which still checks). Without it, Lambda invoked the relay for the rows it appends after publishing
 * from the jobs stream and for every TTL deletion: more outbox records than it relays, each batch for nothing.
 * `exists: false` is on the leaf (`BOOL`), as Lambda's filter syntax requires.
 */
export const OUTBOX_EVENT_STREAM_FILTER = { eventName: ['INSERT'], dynamodb: { NewImage: { [RELAYED_ROW_ATTRIBUTE]: { BOOL: [{ exists: false }] } } } } as const;

/**
 * The outbox row of an event: the stream relay publishes it (unless `relayed`), and it stays, for the history's
 * retention, as the subject's history.
 */
export function outboxRow(event: EventEnvelope, relayed = false): Record<string, string | number | boolean> {
  return {
    ...(relayed ? { [RELAYED_ROW_ATTRIBUTE]: true } : {}),
    eventId: event.id,
    type: event.type,
    tenantId: event.tenantId,
    subject: event.subject,
    time: event.time,
    envelope: JSON.stringify(event),
    expiresAt: Math.floor(Date.parse(event.time) / 1000) + HISTORY_RETENTION_SECONDS,
  };
}

/**
 * The outbox row as one item of the transaction that commits the state change it records; the condition makes a
 * replayed event id fail the whole transaction.
 */
export function outboxPut(tableName: string, event: EventEnvelope): TransactItems[number] {
  return { Put: { TableName: tableName, Item: outboxRow(event), ConditionExpression: 'attribute_not_exists(eventId)' } };
}

/**
 * The job item's attribute that carries the event of a change written to the job alone (no counter, no slot): one
 * conditional write instead of a transaction. The jobs table's stream brings it to the relay, which appends it to the
 * outbox, as the transaction would have, and publishes it (decision 0022). Every other write of the job through the
 * store drops it.
 */
export const JOB_EVENT_ATTRIBUTE = 'relayEvent';

/**
 * Which jobs-table stream records reach the relay: those whose new image carries an event. The event source
 * mapping's filter (lib/relay-function.ts) and the local stream poller (local/event-backbone.ts) both use it, as
 * they use OUTBOX_EVENT_STREAM_FILTER.
 */
export const JOB_EVENT_STREAM_FILTER = { dynamodb: { NewImage: { [JOB_EVENT_ATTRIBUTE]: { S: [{ exists: true }] } } } } as const;
