import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DispatchQueues } from '../../core/ports.ts';
import type { DispatchMessage } from '../../core/saga-messages.ts';
import { asLazySqs, type LazySqs } from '../lazy-clients.ts';

/** The dispatch queues as ClaimJob sends to them: one message per claimed attempt, its body the DispatchMessage. */
export class SqsDispatchQueues implements DispatchQueues {
  private readonly sqs: LazySqs;

  constructor(sqs: SQSClient | LazySqs) {
    this.sqs = asLazySqs(sqs);
  }

  async send(queueUrl: string, message: DispatchMessage): Promise<void> {
    await this.sqs.use((client, sdk) => client.send(new sdk.SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(message) })));
  }
}
