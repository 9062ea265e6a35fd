import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import { parseEvent, type EventEnvelope } from '../core/events.ts';
import { flushMetrics } from '../shared/metrics.ts';
import { emitMetric } from '../shared/platform-metrics.ts';

/** What EventBridge puts on an SQS target: its own envelope around our event in `detail`. */
const EventBridgeMessageSchema = z.object({
  id: z.string(),
  'detail-type': z.string(),
  source: z.string(),
  detail: z.unknown(),
});

export class MalformedMessageError extends Error {
  override name = 'MalformedMessageError';
}

/** Reads the domain event out of an SQS message body; anything else is a malformed message. */
export function eventFromMessage(record: SQSRecord): EventEnvelope {
  try {
    const message = EventBridgeMessageSchema.parse(JSON.parse(record.body));
    return parseEvent(message.detail);
  } catch (error) {
    throw new MalformedMessageError(`Message ${record.messageId} does not carry a valid Forgeflow event`, { cause: error });
  }
}

/** `deferred`: the effect was refused for now (throttled) and the event put back on its queue with a delay. */
export type EffectOutcome = 'applied' | 'duplicate' | 'skipped' | 'deferred';

export interface EventConsumerOptions {
  /** Inbox key: one claim per (consumer, event). */
  name: string;
  logger: Logger;
  metrics: Metrics;
  /** `context` is the invocation's, for effects that must fit in its remaining time. */
  handle(event: EventEnvelope, context?: Context): Promise<EffectOutcome>;
}

/**
 * The shape every event consumer shares: SQS batch in, one effect per event, per-message failures reported so
 * only those return to the queue (and, after maxReceiveCount, to its DLQ). Duplicates are counted, not hidden.
 */
export function createEventConsumer(options: EventConsumerOptions) {
  const recordHandler = async (record: SQSRecord, context?: Context) => {
    const event = eventFromMessage(record);
    const outcome = await options.handle(event, context);
    // Skipped and deferred events took no effect and are no redelivery: the inbox metrics leave them out.
    if (outcome === 'applied') emitMetric(options.metrics, 'InboxProcessed', 1, { Consumer: options.name });
    if (outcome === 'duplicate') {
      emitMetric(options.metrics, 'InboxDuplicates', 1, { Consumer: options.name });
      options.logger.debug('duplicate event skipped', { eventId: event.id, consumer: options.name });
    }
  };
  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    try {
      // A processor per invocation: it keeps the batch's state, and local pollers invoke one module concurrently.
      return await processPartialResponse(event, (record: SQSRecord) => recordHandler(record, context), new BatchProcessor(EventType.SQS), { context });
    } finally {
      flushMetrics(options.metrics);
    }
  };
}
