import { Duration } from 'aws-cdk-lib';
import { EventBus, Rule, type EventPattern as CdkEventPattern } from 'aws-cdk-lib/aws-events';
import { SqsQueue } from 'aws-cdk-lib/aws-events-targets';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { EVENT_BUS, RULES, type EventPattern, type RuleDefinition } from '../functions/declarations/events.ts';
import { acknowledgeDeadLetterDestination, QUEUE_DEFAULTS, type ForgeflowQueues } from './queues.ts';

/**
 * The declared pattern as the L2 Rule's pattern type. Rule renders its pattern key by key and renames only
 * `detailType`, so the declaration (with `detail-type` and content filters such as `prefix` and `exists`) reaches
 * the template unchanged; the CDK tests compare the rendered EventPattern with the declaration.
 */
const asCdkPattern = (pattern: EventPattern) => structuredClone(pattern) as CdkEventPattern;

/** A deployed rule with its declaration and the DLQ for deliveries EventBridge gave up on. */
export interface DeclaredRule {
  readonly definition: RuleDefinition;
  readonly rule: Rule;
  readonly targetDlq: Queue;
}

export interface ForgeflowEventBusProps {
  readonly queues: ForgeflowQueues;
  /** @default EVENT_BUS.name; a copy of the app (another stack prefix) needs its own name, unique per account. */
  readonly eventBusName?: string;
  /** @default RULES, every declared rule */
  readonly rules?: readonly RuleDefinition[];
}

/**
 * The Forgeflow EventBridge bus and its rules, built from `functions/declarations/events.ts`. Each rule targets
 * its declared consumer queue through the L2 SqsQueue target, which adds to the queue's policy a statement that
 * lets events.amazonaws.com send only on behalf of that rule (aws:SourceArn). EventBridge retries a failed
 * delivery (up to 24 h) and then puts the event in the rule's own DLQ, so a broken target loses nothing.
 *
 * No archive: every event is already kept in the outbox table (a week) and in the job history (90 days).
 */
export class ForgeflowEventBus extends Construct {
  readonly bus: EventBus;
  private readonly byId = new Map<string, DeclaredRule>();

  constructor(scope: Construct, id: string, props: ForgeflowEventBusProps) {
    super(scope, id);

    this.bus = new EventBus(this, EVENT_BUS.id, {
      eventBusName: props.eventBusName ?? EVENT_BUS.name,
      description: 'Forgeflow job events, published by the outbox relay and optimistically by the api',
    });

    for (const definition of props.rules ?? RULES) {
      const target = props.queues.get(definition.target);
      // Retention like the target's own DLQ: the same events, failed one step earlier.
      const targetDlq = new Queue(this, `${definition.id}TargetDlq`, {
        ...QUEUE_DEFAULTS,
        retentionPeriod: Duration.seconds(definition.target.dlq.retentionSeconds),
      });
      acknowledgeDeadLetterDestination(targetDlq, `dead-letter queue of the ${definition.name} rule's target`);

      const rule = new Rule(this, definition.id, {
        eventBus: this.bus,
        ruleName: definition.name,
        description: definition.description,
        eventPattern: asCdkPattern(definition.pattern),
      });
      rule.addTarget(new SqsQueue(target.queue, { deadLetterQueue: targetDlq }));
      this.byId.set(definition.id, { definition, rule, targetDlq });
    }
  }

  get(definition: RuleDefinition): DeclaredRule {
    const declared = this.byId.get(definition.id);
    if (!declared) throw new Error(`Rule ${definition.id} is not part of this stack`);
    return declared;
  }

  get all(): DeclaredRule[] {
    return [...this.byId.values()];
  }
}
