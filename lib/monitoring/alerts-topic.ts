import { Aws, CfnCondition, CfnOutput, CfnParameter, Duration, Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { IRule } from 'aws-cdk-lib/aws-events';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic, type CfnSubscription, type Subscription } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

/** The stack parameter an operator sets at deploy time (`--parameters <stack>:AlertEmail=oncall@example.com`). */
export const ALERT_EMAIL_PARAMETER = 'AlertEmail';

const CLOUDWATCH = new ServicePrincipal('cloudwatch.amazonaws.com');
const EVENTS = new ServicePrincipal('events.amazonaws.com');

/**
 * Where every Forgeflow alarm and worker threshold event goes: one SNS topic, encrypted with a key of its own, with
 * an optional e-mail subscription from the AlertEmail parameter (empty, the default: no subscription).
 *
 * A customer managed key rather than the AWS managed aws/sns: neither CloudWatch alarms nor EventBridge can publish
 * to a topic under aws/sns, whose key policy cannot be changed. The key encrypts only messages in flight, so it is
 * destroyed with the stack (after KMS's waiting period) and rotated yearly (cdk-nag KMS5).
 *
 * Publishing is decided by the topic policy: CloudWatch for alarms of this account and region, EventBridge for the
 * rules given to allowRule only (aws:SourceArn). The key policy lets both services use the key without conditions:
 * EventBridge's requests to KMS carry no aws:SourceArn or aws:SourceAccount, so conditions there would drop every
 * event silently, and the topic policy already keeps other accounts' alarms and rules out.
 */
export class AlertsTopic extends Construct {
  readonly topic: Topic;
  readonly key: Key;
  readonly emailParameter: CfnParameter;
  readonly emailSubscription: Subscription;
  readonly hasEmail: CfnCondition;
  private allowedRules = 0;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.key = new Key(this, 'Key', {
      description: 'Forgeflow alerts topic: encrypts alarm notifications and worker threshold events in flight',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    this.key.addToResourcePolicy(
      new PolicyStatement({ sid: 'AlarmAndEventPublishers', principals: [CLOUDWATCH, EVENTS], actions: ['kms:Decrypt', 'kms:GenerateDataKey*'], resources: ['*'] }),
    );

    this.topic = new Topic(this, 'Topic', { displayName: 'Forgeflow alerts', masterKey: this.key, enforceSSL: true });
    this.topic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchAlarms',
        principals: [CLOUDWATCH],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:*` },
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
        },
      }),
    );

    ({ parameter: this.emailParameter, condition: this.hasEmail, subscription: this.emailSubscription } = this.subscribeEmail());
    new CfnOutput(Stack.of(this), 'AlertsTopicArn', { value: this.topic.topicArn, description: 'SNS topic of Forgeflow alarms and worker threshold events' });
  }

  /** Lets EventBridge publish on behalf of this one rule, and nothing else on the bus. */
  allowRule(rule: IRule): void {
    this.topic.addToResourcePolicy(
      new PolicyStatement({
        sid: `EventBridgeRule${++this.allowedRules}`,
        principals: [EVENTS],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: { ArnEquals: { 'aws:SourceArn': rule.ruleArn } },
      }),
    );
  }

  /**
   * A CfnCondition rather than a synth-time choice: the address is a deploy-time parameter, so one synthesized
   * template serves every stage, and an empty value creates no subscription at all (SNS rejects an empty endpoint).
   */
  private subscribeEmail() {
    const parameter = new CfnParameter(Stack.of(this), ALERT_EMAIL_PARAMETER, {
      type: 'String',
      default: '',
      description: 'E-mail address subscribed to the Forgeflow alerts topic; empty for none. SNS asks the address to confirm.',
      allowedPattern: '^$|^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$',
      constraintDescription: 'must be empty or one e-mail address',
    });
    const condition = new CfnCondition(this, 'HasAlertEmail', { expression: Fn.conditionNot(Fn.conditionEquals(parameter.valueAsString, '')) });
    const subscription = this.topic.addSubscription(new EmailSubscription(parameter.valueAsString));
    (subscription.node.defaultChild as CfnSubscription).cfnOptions.condition = condition;
    return { parameter, condition, subscription };
  }
}
