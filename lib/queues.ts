import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, Stats, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { Queue, QueueEncryption, type IQueue, type QueueProps } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { CONSUMER_QUEUES, RELAY_FAILURE_QUEUE, type QueueDefinition } from '../functions/declarations/queues.ts';
import { DISPATCH_QUEUES, WORKER_REPORTS_QUEUE } from '../functions/declarations/workers.ts';

/** A deployed consumer queue and its DLQ, together with the declaration they were built from. */
export interface DeclaredQueue {
  readonly definition: QueueDefinition;
  readonly queue: Queue;
  readonly dlq: Queue;
}

/**
 * What every Forgeflow queue shares:
 * - SSE with SQS-managed keys, not KMS: EventBridge delivers to these queues, and the AWS managed key aws/sqs has
 *   a key policy that EventBridge cannot use; a customer managed key would add a key policy to keep in step with
 *   the rules and every consumer role, for messages that only carry event envelopes already stored in DynamoDB.
 * - enforceSSL: a queue policy denies every request not made over TLS (cdk-nag SQS4).
 * - retained: a queue holds the only copy of an event that has not been consumed yet, and a DLQ the only copy of
 *   one that failed, so neither a stack deletion nor a replacement may drop them.
 */
export const QUEUE_DEFAULTS = {
  encryption: QueueEncryption.SQS_MANAGED,
  enforceSSL: true,
  removalPolicy: RemovalPolicy.RETAIN,
} as const satisfies QueueProps;

/**
 * Every declared queue with a DLQ: the event consumers' queues, one dispatch queue per (worker class, priority)
 * that the saga's ClaimJob sends to and the agents take work from, and the queue agents report starts to.
 */
export const DECLARED_QUEUES: readonly QueueDefinition[] = [...CONSUMER_QUEUES, ...DISPATCH_QUEUES, WORKER_REPORTS_QUEUE];

/**
 * How long a DLQ hides a message its consumer received (the SQS default, made explicit): a function that consumes
 * a DLQ (the dispatch DLQs' WORKER_LOST handler) must finish within it.
 */
export const DLQ_VISIBILITY_TIMEOUT_SECONDS = 30;

/**
 * An alarm as soon as a dead-letter queue holds a message: each one is an event some part of Forgeflow gave up
 * on, and it waits for a person. No data (an idle queue) is healthy, not breaching.
 */
export function deadLetterAlarm(scope: Construct, id: string, queue: IQueue, what: string): Alarm {
  return new Alarm(scope, id, {
    alarmDescription: `${what}: messages are waiting in a dead-letter queue. Inspect them, fix the cause, then redrive.`,
    metric: queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: Stats.MAXIMUM }),
    threshold: 0,
    comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: TreatMissingData.NOT_BREACHING,
  });
}

/** Records that a queue is a dead-letter destination cdk-nag cannot see as one (it only follows SQS redrive). */
export function acknowledgeDeadLetterDestination(queue: IQueue, usedBy: string): void {
  Validations.of(queue).acknowledge({
    id: 'AwsSolutions::AwsSolutions-SQS3',
    reason:
      `This queue is itself a dead-letter destination (${usedBy}). cdk-nag SQS3 only recognises SQS redrive ` +
      'policies and Lambda DeadLetterConfig as DLQ use; a DLQ of a DLQ would only move the problem, and an ' +
      'alarm fires on its first message.',
  });
}

export interface ForgeflowQueuesProps {
  /** @default DECLARED_QUEUES: the consumer queues, the dispatch queues and the worker reports queue */
  readonly definitions?: readonly QueueDefinition[];
}

/**
 * The declared queues with their DLQs, and the relay's failure queue, built only from
 * `functions/declarations/queues.ts` and `workers.ts`: visibility, retention and maxReceiveCount are read from the
 * declarations.
 * Physical names are left to CloudFormation (the declared names are the local ones), so several copies of the
 * app can share an account.
 */
export class ForgeflowQueues extends Construct {
  /** Where the outbox stream's event source mapping sends the batches it gave up on. */
  readonly relayFailureQueue: Queue;
  private readonly byId = new Map<string, DeclaredQueue>();

  constructor(scope: Construct, id: string, props: ForgeflowQueuesProps = {}) {
    super(scope, id);

    for (const definition of props.definitions ?? DECLARED_QUEUES) {
      const dlq = new Queue(this, definition.dlq.id, {
        ...QUEUE_DEFAULTS,
        visibilityTimeout: Duration.seconds(DLQ_VISIBILITY_TIMEOUT_SECONDS),
        retentionPeriod: Duration.seconds(definition.dlq.retentionSeconds),
      });
      const queue = new Queue(this, definition.id, {
        ...QUEUE_DEFAULTS,
        visibilityTimeout: Duration.seconds(definition.visibilityTimeoutSeconds),
        retentionPeriod: Duration.seconds(definition.retentionSeconds),
        deadLetterQueue: { queue: dlq, maxReceiveCount: definition.maxReceiveCount },
      });
      this.byId.set(definition.id, { definition, queue, dlq });
    }

    // The mapping sends only a description of the failed batch (shard and sequence numbers), not the records:
    // the events stay in the outbox table for OUTBOX_RETENTION_SECONDS, long enough to republish them by hand.
    this.relayFailureQueue = new Queue(this, RELAY_FAILURE_QUEUE.id, {
      ...QUEUE_DEFAULTS,
      retentionPeriod: Duration.seconds(RELAY_FAILURE_QUEUE.retentionSeconds),
    });
    acknowledgeDeadLetterDestination(this.relayFailureQueue, 'on-failure destination of the outbox stream mapping');
  }

  /** The deployed queue for a declaration; throws if the declaration was not built here. */
  get(definition: QueueDefinition): DeclaredQueue {
    const declared = this.byId.get(definition.id);
    if (!declared) throw new Error(`Queue ${definition.id} is not part of this stack`);
    return declared;
  }

  get all(): DeclaredQueue[] {
    return [...this.byId.values()];
  }

  /** The dispatch queues (one per worker class and priority) built here, in declaration order. */
  get dispatch(): DeclaredQueue[] {
    return DISPATCH_QUEUES.filter((definition) => this.byId.has(definition.id)).map((definition) => this.get(definition));
  }
}
