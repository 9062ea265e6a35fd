import type { EventEnvelope } from '../../core/events.ts';
import { HISTORY_RETENTION_SECONDS } from '../../declarations/tables.ts';
import type { TransactItems } from './transact.ts';

/**
 * The outbox row of an event, as one item of the transaction that commits the state change it records. The
 * stream relay publishes it and it stays, for the history's retention, as the subject's history; the condition
 * makes a replayed event id fail the whole transaction.
 */
export function outboxPut(tableName: string, event: EventEnvelope): TransactItems[number] {
  return {
    Put: {
      TableName: tableName,
      Item: {
        eventId: event.id,
        type: event.type,
        tenantId: event.tenantId,
        subject: event.subject,
        time: event.time,
        envelope: JSON.stringify(event),
        expiresAt: Math.floor(Date.parse(event.time) / 1000) + HISTORY_RETENTION_SECONDS,
      },
      ConditionExpression: 'attribute_not_exists(eventId)',
    },
  };
}
