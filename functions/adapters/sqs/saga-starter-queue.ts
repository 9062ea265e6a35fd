import { randomUUID } from 'node:crypto';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { EventEnvelope } from '../../core/events.ts';
import { asLazySqs, type LazySqs } from '../lazy-clients.ts';

/** The message body an EventBridge rule puts on an SQS target, for an event we put on a consumer's queue ourselves. */
export function eventBridgeMessage(event: EventEnvelope): string {
  return JSON.stringify({ id: randomUUID(), 'detail-type': event.type, source: event.source, time: event.time, detail: event });
}

/**
 * The saga starter's queue. The API puts a JobQueued on it when its own start of the run failed; the starter puts
 * one back, delayed, when Step Functions throttled it. Messages are shaped as EventBridge delivers, so the starter
 * reads them as any consumer reads its queue.
 */
export class SagaStarterQueue {
  private readonly sqs: LazySqs;

  constructor(
    sqs: SQSClient | LazySqs,
    private readonly queueUrl: string,
  ) {
    this.sqs = asLazySqs(sqs);
  }

  async put(event: EventEnvelope, delaySeconds?: number): Promise<void> {
    const message = { QueueUrl: this.queueUrl, MessageBody: eventBridgeMessage(event), ...(delaySeconds ? { DelaySeconds: delaySeconds } : {}) };
    await this.sqs.use((client, sdk) => client.send(new sdk.SendMessageCommand(message)));
  }
}
