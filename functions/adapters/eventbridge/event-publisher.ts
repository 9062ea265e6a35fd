import type { EventBridgeClient, PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { sendUntilTaken, type PublishRetryOptions } from '../publish-retries.ts';
import type { EventEnvelope } from '../../core/events.ts';
import { asLazyEventBridge, type LazyEventBridge } from '../lazy-clients.ts';
import type { EventPublisher, PublishOutcome } from '../../core/ports.ts';
import { packInOrder } from '../../core/batches.ts';

/** PutEvents accepts at most 10 entries per call, and at most 256 KB in all (EventBridge quotas). */
export const PUT_EVENTS_BATCH = 10;
export const PUT_EVENTS_MAX_BYTES = 256 * 1024;

/**
 * An entry's size as EventBridge counts it ("Calculating PutEvents event entry size"): 14 bytes for Time, and the
 * UTF-8 bytes of Source, DetailType, Detail and each Resource.
 */
export function putEventsEntrySize(entry: Pick<PutEventsRequestEntry, 'Time' | 'Source' | 'DetailType' | 'Detail' | 'Resources'>): number {
  const bytes = (text: string | undefined) => (text ? Buffer.byteLength(text) : 0);
  return (entry.Time ? 14 : 0) + bytes(entry.Source) + bytes(entry.DetailType) + bytes(entry.Detail) + (entry.Resources ?? []).reduce((sum, r) => sum + bytes(r), 0);
}

export interface EventBridgePublisherOptions extends PublishRetryOptions {
  busName: string;
}

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
  private readonly client: LazyEventBridge;

  constructor(
    client: EventBridgeClient | LazyEventBridge,
    private readonly options: EventBridgePublisherOptions,
  ) {
    this.client = asLazyEventBridge(client);
  }

  async publish(events: readonly EventEnvelope[]): Promise<PublishOutcome> {
    const { batches, tooLarge } = this.batches(events);
    const outcomes = await Promise.all(batches.map((batch) => this.publishBatch(batch)));
    return { failed: [...tooLarge, ...outcomes.flatMap((o) => o.failed)] };
  }

  /**
   * Batches of at most 10 entries and 256 KB, in order. A batch sized by count alone could hold ten large events
   * and be refused whole. An event too large for any request can never be published: it is reported at once.
   */
  private batches(events: readonly EventEnvelope[]): { batches: EventEnvelope[][]; tooLarge: PublishOutcome['failed'] } {
    const tooLarge: PublishOutcome['failed'] = [];
    const sized: { event: EventEnvelope; size: number }[] = [];
    for (const event of events) {
      const size = putEventsEntrySize(toPutEventsEntry(this.options.busName, event));
      if (size > PUT_EVENTS_MAX_BYTES) {
        tooLarge.push({ eventId: event.id, errorCode: 'EntryTooLarge', errorMessage: `The event takes ${size} bytes; PutEvents accepts ${PUT_EVENTS_MAX_BYTES}` });
      } else {
        sized.push({ event, size });
      }
    }
    const packed = packInOrder(sized, { maxCount: PUT_EVENTS_BATCH, maxBytes: PUT_EVENTS_MAX_BYTES, sizeOf: (entry) => entry.size });
    return { batches: packed.map((batch) => batch.map((entry) => entry.event)), tooLarge };
  }

  /** Sends one batch; on partial failure (FailedEntryCount > 0) sends again only the entries that failed. */
  private async publishBatch(batch: EventEnvelope[]): Promise<PublishOutcome> {
    const send = async (pending: readonly EventEnvelope[]) => {
      const request = { Entries: pending.map((event) => toPutEventsEntry(this.options.busName, event)) };
      const result = await this.client.use((client, sdk) => client.send(new sdk.PutEventsCommand(request)));
      const entries = result.Entries ?? [];
      // A missing entry or one without an EventId was not accepted, whatever FailedEntryCount says.
      return pending.flatMap((event, i) => {
        const entry = entries[i];
        return !entry?.EventId || entry.ErrorCode ? [{ eventId: event.id, errorCode: entry?.ErrorCode ?? 'MissingEntry', errorMessage: entry?.ErrorMessage ?? '' }] : [];
      });
    };
    return { failed: await sendUntilTaken(batch, send, this.options, 4) };
  }
}
