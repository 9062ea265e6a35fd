import type { SQSClient } from '@aws-sdk/client-sqs';
import type { QueueDepth } from '../../core/fleet/ports.ts';
import { PRIORITIES } from '../../core/priority.ts';
import { dispatchQueue } from '../../declarations/workers.ts';
import { asLazySqs, type LazySqs } from '../lazy-clients.ts';

/**
 * The scaler's demand signal: the dispatch queues of a class. Visible and delayed messages wait for a worker;
 * in-flight ones are held by one. SQS counts are approximate and lag by up to a minute; the scaler runs every
 * minute and on dispatches, so the lag costs at most one run.
 */
export class SqsQueueDepth implements QueueDepth {
  private readonly client: LazySqs;

  constructor(
    client: SQSClient | LazySqs,
    private readonly queueUrl: (envVar: string) => string,
  ) {
    this.client = asLazySqs(client);
  }

  async depth(workerClass: string): Promise<{ waiting: number; inFlight: number }> {
    const answers = await this.client.use((sqs, sdk) =>
      Promise.all(
        PRIORITIES.map((priority) =>
          sqs.send(
            new sdk.GetQueueAttributesCommand({
              QueueUrl: this.queueUrl(dispatchQueue(workerClass, priority).envVar),
              AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
            }),
          ),
        ),
      ),
    );
    const count = (attributes: Record<string, string> | undefined, name: string) => Number(attributes?.[name] ?? 0) || 0;
    let waiting = 0;
    let inFlight = 0;
    for (const { Attributes } of answers) {
      waiting += count(Attributes, 'ApproximateNumberOfMessages') + count(Attributes, 'ApproximateNumberOfMessagesDelayed');
      inFlight += count(Attributes, 'ApproximateNumberOfMessagesNotVisible');
    }
    return { waiting, inFlight };
  }
}
