import { PutEventsCommand, type EventBridgeClient, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { EventEnvelope } from '../../core/events.ts';
import type { EventPublisher, PublishOutcome } from '../../core/ports.ts';

/** PutEvents accepts at most 10 entries per call. */
export const PUT_EVENTS_BATCH = 10;

export interface EventBridgePublisherOptions {
  busName: string;
  /** Calls per batch, the first included; only the entries that failed are sent again. */
  maxAttempts?: number;
  baseDelayMs?: number;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Maps an envelope to an EventBridge entry: the envelope travels whole in `detail`, so consumers get our id. */
export function toPutEventsEntry(busName: string, event: EventEnvelope): PutEventsRequestEntry {
  return {
    EventBusName: busName,
    Source: event.source,
    DetailType: event.type,
    Detail: JSON.stringify(event),
    Time: new Date(event.time),
    Resources: [],
  };
}

export class EventBridgePublisher implements EventPublisher {
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly random: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly client: EventBridgeClient,
    private readonly options: EventBridgePublisherOptions,
  ) {
    this.maxAttempts = options.maxAttempts ?? 4;
    this.baseDelayMs = options.baseDelayMs ?? 50;
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? defaultSleep;
  }

  async publish(events: readonly EventEnvelope[]): Promise<PublishOutcome> {
    const batches: EventEnvelope[][] = [];
    for (let i = 0; i < events.length; i += PUT_EVENTS_BATCH) batches.push(events.slice(i, i + PUT_EVENTS_BATCH));
    const outcomes = await Promise.all(batches.map((batch) => this.publishBatch(batch)));
    return { failed: outcomes.flatMap((o) => o.failed) };
  }

  /** Sends one batch; on partial failure (FailedEntryCount > 0) sends again only the entries that failed. */
  private async publishBatch(batch: EventEnvelope[]): Promise<PublishOutcome> {
    let pending = batch;
    let failed: PublishOutcome['failed'] = [];
    for (let attempt = 1; attempt <= this.maxAttempts && pending.length > 0; attempt++) {
      if (attempt > 1) await this.sleep(this.random() * this.baseDelayMs * 2 ** (attempt - 1));
      try {
        const result = await this.client.send(
          new PutEventsCommand({ Entries: pending.map((event) => toPutEventsEntry(this.options.busName, event)) }),
        );
        const entries = result.Entries ?? [];
        failed = [];
        const retry: EventEnvelope[] = [];
        pending.forEach((event, i) => {
          const entry = entries[i];
          // A missing entry or one without an EventId was not accepted, whatever FailedEntryCount says.
          if (!entry?.EventId || entry.ErrorCode) {
            retry.push(event);
            failed.push({ eventId: event.id, errorCode: entry?.ErrorCode ?? 'MissingEntry', errorMessage: entry?.ErrorMessage ?? '' });
          }
        });
        pending = retry;
      } catch (error) {
        // The whole call failed (throttled, network): every pending entry is still pending.
        const e = error as Error;
        failed = pending.map((event) => ({ eventId: event.id, errorCode: e.name, errorMessage: e.message }));
      }
    }
    return { failed };
  }
}
