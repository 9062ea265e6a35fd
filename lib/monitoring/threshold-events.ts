import { Duration } from 'aws-cdk-lib';
import { Rule, type IEventBus, type IRule, type IRuleTarget, type RuleTargetConfig } from 'aws-cdk-lib/aws-events';
import { Construct } from 'constructs';
import { WORKER_ALERT_EVENT_TYPES, WORKER_EVENT_SOURCE } from '../../functions/core/events.ts';
import type { AlertsTopic } from './alerts-topic.ts';

/** The worker events the alerts topic gets (declared with the events). */
export const THRESHOLD_EVENT_TYPES = WORKER_ALERT_EVENT_TYPES;

/**
 * How long EventBridge keeps retrying a delivery to the topic. An hour covers an SNS or KMS incident; a threshold
 * crossing older than that is stale news, and the WorkerThresholdAlerts alarm has notified through CloudWatch by then.
 */
export const THRESHOLD_EVENT_MAX_AGE = Duration.hours(1);

/**
 * The topic as a rule target, with a topic policy statement for this rule alone. The L2 SnsTopic target would let
 * events.amazonaws.com publish for any rule of any account (it adds no aws:SourceArn condition).
 *
 * No DLQ: a delivery that fails for an hour fails because the topic or its key refuses EventBridge, and a DLQ's own
 * alarm would notify through that same topic. The WorkerThresholdAlerts alarm is the durable signal; this rule only
 * adds which worker and what value.
 */
class AlertsTopicTarget implements IRuleTarget {
  constructor(private readonly alerts: AlertsTopic) {}

  bind(rule: IRule): RuleTargetConfig {
    this.alerts.allowRule(rule);
    return {
      arn: this.alerts.topic.topicArn,
      targetResource: this.alerts.topic,
      retryPolicy: { maximumEventAgeInSeconds: THRESHOLD_EVENT_MAX_AGE.toSeconds(), maximumRetryAttempts: 24 },
    };
  }
}

export interface ThresholdEventsRuleProps {
  /** The Forgeflow bus, where the relay publishes worker events. */
  readonly bus: IEventBus;
  readonly alerts: AlertsTopic;
}

/** Forwards the worker threshold events from the Forgeflow bus to the alerts topic, unchanged (the whole event). */
export class ThresholdEventsRule extends Construct {
  readonly rule: Rule;

  constructor(scope: Construct, id: string, props: ThresholdEventsRuleProps) {
    super(scope, id);
    this.rule = new Rule(this, 'Rule', {
      eventBus: props.bus,
      description: 'Forgeflow worker CPU and memory threshold events, to the alerts topic',
      eventPattern: { source: [WORKER_EVENT_SOURCE], detailType: [...THRESHOLD_EVENT_TYPES] },
    });
    this.rule.addTarget(new AlertsTopicTarget(props.alerts));
  }
}
