import { Duration } from 'aws-cdk-lib';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { Construct } from 'constructs';
import { WEBHOOKS_QUEUE } from '../functions/declarations/queues.ts';
import { INBOX_TABLE, TENANTS_TABLE, WEBHOOK_DELIVERIES_TABLE } from '../functions/declarations/tables.ts';
import { ForgeflowFunction, type ForgeflowFunctionProps } from './lambda-function.ts';
import type { DeclaredQueue, ForgeflowQueues } from './queues.ts';
import { bindTable } from './table-access.ts';
import type { ForgeflowTables } from './tables.ts';

export interface QueueConsumerFunctionProps extends Omit<ForgeflowFunctionProps, 'extraWildcardReason'> {
  readonly queue: DeclaredQueue;
  /** Most concurrent invocations the mapping starts (2 to 1000): bounds the load on what the consumer calls. */
  readonly maxConcurrency: number;
}

/**
 * A consumer Lambda on its declared queue: the declared batch size, and partial batch responses, so a failed
 * message returns to the queue alone (and, after the declared maxReceiveCount, moves to the DLQ).
 */
export class QueueConsumerFunction extends ForgeflowFunction {
  constructor(scope: Construct, id: string, props: QueueConsumerFunctionProps) {
    const { queue, maxConcurrency, ...functionProps } = props;
    // Lambda refuses a mapping whose queue hides a message for less time than the function may run: the message
    // would reappear, and be handled twice, while the first invocation is still working on it.
    if (functionProps.timeout.toSeconds() > queue.definition.visibilityTimeoutSeconds) {
      throw new Error(`${id}: timeout ${functionProps.timeout.toSeconds()} s exceeds the visibility timeout of ${queue.definition.name}`);
    }
    super(scope, id, functionProps);
    this.function.addEventSource(
      new SqsEventSource(queue.queue, {
        batchSize: queue.definition.batchSize,
        reportBatchItemFailures: true,
        maxConcurrency,
        ...(queue.definition.maxBatchingWindowSeconds ? { maxBatchingWindow: Duration.seconds(queue.definition.maxBatchingWindowSeconds) } : {}),
      }),
    );
  }
}

export interface ConsumerFunctionProps {
  readonly tables: ForgeflowTables;
  readonly queues: ForgeflowQueues;
}

/**
 * functions/consumers/webhooks: POSTs job events to the jobs' callback URLs over HTTPS, to public addresses only
 * (WEBHOOK_ALLOW_HTTP, _LOOPBACK and _PRIVATE stay unset, so false: those are for the local runtime). It needs
 * no VPC: the calls go to the internet from Lambda's own network.
 */
export class WebhooksFunction extends QueueConsumerFunction {
  constructor(scope: Construct, id: string, props: ConsumerFunctionProps) {
    super(scope, id, {
      entry: 'functions/consumers/webhooks/handler.ts',
      description: 'Forgeflow webhook delivery consumer',
      serviceName: 'forgeflow-webhooks',
      memorySize: 256,
      // One delivery is at most 4 attempts of 5 s with backoff between them (about 30 s, see DELIVERY_DEFAULTS in
      // functions/webhooks/deliver.ts); messages of a batch are delivered in parallel. 60 s covers that twice
      // and stays well within the queue's 120 s visibility, which is also the inbox claim's lease: a claim cannot
      // expire while the invocation that holds it still runs.
      timeout: Duration.seconds(60),
      queue: props.queues.get(WEBHOOKS_QUEUE),
      // Bounds the parallel outbound calls to tenants' receivers (10 messages per invocation).
      maxConcurrency: 10,
    });
    // Claim, complete, and release after a failed delivery (the only DeleteItem grant in Forgeflow).
    bindTable(this.function, props.tables.get(INBOX_TABLE), 'claim');
    // The tenant's signing secret, created on first use by a conditional put, never updated.
    bindTable(this.function, props.tables.get(TENANTS_TABLE), ['read', 'append']);
    bindTable(this.function, props.tables.get(WEBHOOK_DELIVERIES_TABLE), 'append');
  }
}
