import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { EventEnvelope } from '../../core/events.ts';
import type { EventPublisher, PublishOutcome } from '../../core/ports.ts';
import { outboxRow } from './outbox-item.ts';

/** BatchWriteItem takes at most 25 puts. */
const BATCH_WRITE_MAX = 25;

export interface OutboxAppenderOptions {
  tableName: string;
  maxAttempts?: number;
  baseDelayMs?: number;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Appends events to the outbox (BatchWriteItem, 25 rows a call) as rows the relay has published itself
 * (RELAYED_ROW_ATTRIBUTE): the events job writes carry (functions/relay/forward.ts). An unconditional put is safe to
 * repeat: the row's content is the event's, and a put that changes nothing writes no stream record.
 */
export class DynamoOutboxAppender implements EventPublisher {
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly random: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly options: OutboxAppenderOptions,
  ) {
    this.maxAttempts = options.maxAttempts ?? 5;
    this.baseDelayMs = options.baseDelayMs ?? 50;
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  async publish(events: readonly EventEnvelope[]): Promise<PublishOutcome> {
    // BatchWriteItem refuses a request that names one key twice.
    const unique = [...new Map(events.map((event) => [event.id, event])).values()];
    const batches: EventEnvelope[][] = [];
    for (let i = 0; i < unique.length; i += BATCH_WRITE_MAX) batches.push(unique.slice(i, i + BATCH_WRITE_MAX));
    const outcomes = await Promise.all(batches.map((batch) => this.write(batch)));
    return { failed: outcomes.flat() };
  }

  /** One batch, sending again (with jittered backoff) only the rows DynamoDB left unprocessed. */
  private async write(batch: EventEnvelope[]): Promise<PublishOutcome['failed']> {
    let pending = batch;
    let failed: PublishOutcome['failed'] = [];
    for (let attempt = 1; attempt <= this.maxAttempts && pending.length > 0; attempt++) {
      if (attempt > 1) await this.sleep(this.random() * this.baseDelayMs * 2 ** (attempt - 1));
      try {
        const { UnprocessedItems } = await this.client.send(
          new BatchWriteCommand({ RequestItems: { [this.options.tableName]: pending.map((event) => ({ PutRequest: { Item: outboxRow(event, true) } })) } }),
        );
        const left = new Set((UnprocessedItems?.[this.options.tableName] ?? []).map((request) => String(request.PutRequest?.Item?.eventId)));
        pending = pending.filter((event) => left.has(event.id));
        failed = pending.map((event) => ({ eventId: event.id, errorCode: 'UnprocessedItems', errorMessage: 'DynamoDB left the row unprocessed (throughput)' }));
      } catch (error) {
        // The whole call failed (throttled, network): every pending row is still pending.
        const e = error as Error;
        failed = pending.map((event) => ({ eventId: event.id, errorCode: e.name, errorMessage: e.message }));
      }
    }
    return failed;
  }
}
