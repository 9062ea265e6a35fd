import type { IAspect } from 'aws-cdk-lib';
import { AlarmBase } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IConstruct } from 'constructs';

/**
 * Every alarm of the stack notifies the alerts topic when it fires and when it clears, whoever built it and whenever:
 * an aspect runs at synth, after all constructs exist, so an alarm added later in another file is not silently left
 * without a notification. The OK action tells the person on call the incident ended by itself.
 *
 * Alarm actions render lazily, so adding them at synth time changes the template; no construct is created here.
 */
export class NotifyOnEveryAlarm implements IAspect {
  private readonly action: SnsAction;

  constructor(topic: ITopic) {
    this.action = new SnsAction(topic);
  }

  visit(node: IConstruct): void {
    if (!(node instanceof AlarmBase)) return;
    node.addAlarmAction(this.action);
    node.addOkAction(this.action);
  }
}
