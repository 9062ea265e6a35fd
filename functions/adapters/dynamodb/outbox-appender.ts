import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { EventEnvelope } from '../../core/events.ts';
import type { EventPublisher, PublishOutcome } from '../../core/ports.ts';
import { sendUntilTaken, type PublishRetryOptions } from '../publish-retries.ts';
import { outboxRow } from './outbox-item.ts';

/** BatchWriteItem takes at most 25 puts. */
const BATCH_WRITE_MAX = 25;

export interface OutboxAppenderOptions extends PublishRetryOptions {
  tableName: string;
}

/**
 * Appends events to the outbox (BatchWriteItem, 25 rows a call) as rows the relay has published itself
 * (RELAYED_ROW_ATTRIBUTE): the events job writes carry (functions/relay/forward.ts). An unconditional put is safe to
 * repeat: the row's content is the event's, and a put that changes nothing writes no stream record.
 */
export class DynamoOutboxAppender implements EventPublisher {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly options: OutboxAppenderOptions,
  ) {}

  async publish(events: readonly EventEnvelope[]): Promise<PublishOutcome> {
    // BatchWriteItem refuses a request that names one key twice.
    const unique = [...new Map(events.map((event) => [event.id, event])).values()];
    const batches: EventEnvelope[][] = [];
    for (let i = 0; i < unique.length; i += BATCH_WRITE_MAX) batches.push(unique.slice(i, i + BATCH_WRITE_MAX));
    const outcomes = await Promise.all(batches.map((batch) => sendUntilTaken(batch, (pending) => this.write(pending), this.options, 5)));
    return { failed: outcomes.flat() };
  }

  /** One BatchWriteItem; what DynamoDB left unprocessed is what it did not take. */
  private async write(pending: readonly EventEnvelope[]): Promise<PublishOutcome['failed']> {
    const table = this.options.tableName;
    const { UnprocessedItems } = await this.client.send(new BatchWriteCommand({ RequestItems: { [table]: pending.map((event) => ({ PutRequest: { Item: outboxRow(event, true) } })) } }));
    const left = new Set((UnprocessedItems?.[table] ?? []).map((request) => String(request.PutRequest?.Item?.eventId)));
    return pending.filter((event) => left.has(event.id)).map((event) => ({ eventId: event.id, errorCode: 'UnprocessedItems', errorMessage: 'DynamoDB left the row unprocessed (throughput)' }));
  }
}
