import { Aws, Stack, type Duration } from 'aws-cdk-lib';
import { PolicyDocument, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Schedule, ScheduleExpression, ScheduleTargetInput, TimeWindow, type IScheduleTarget } from 'aws-cdk-lib/aws-scheduler';
import { Construct } from 'constructs';

export interface FunctionScheduleProps {
  readonly function: IFunction;
  readonly every: Duration;
  readonly description: string;
  /** Retries of a failed invocation; a schedule that runs again soon needs few. */
  readonly retryAttempts: number;
  /** After this long an invocation is not worth making any more (60 s at least). */
  readonly maxEventAge: Duration;
  /** What the function is invoked with. @default {} */
  readonly input?: Record<string, unknown>;
}

/**
 * An EventBridge Scheduler schedule that invokes one function with a fixed input at a fixed rate, with no flexible window.
 *
 * Its role is built here rather than by aws-scheduler-targets' LambdaInvoke, whose grantInvoke also allows every
 * version and alias (`<arn>:*`): this role may invoke exactly the function's unqualified ARN, and only Scheduler
 * may assume it, on behalf of this account's default schedule group.
 */
export class FunctionSchedule extends Construct {
  readonly schedule: Schedule;
  readonly role: Role;

  constructor(scope: Construct, id: string, props: FunctionScheduleProps) {
    super(scope, id);
    const scheduleGroup = Stack.of(this).formatArn({ service: 'scheduler', resource: 'schedule-group', resourceName: 'default' });
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID, 'aws:SourceArn': scheduleGroup } },
      }),
      description: props.description,
      inlinePolicies: {
        Invoke: new PolicyDocument({
          statements: [new PolicyStatement({ sid: 'InvokeTarget', actions: ['lambda:InvokeFunction'], resources: [props.function.functionArn] })],
        }),
      },
    });
    const target: IScheduleTarget = {
      bind: () => ({
        arn: props.function.functionArn,
        role: this.role,
        input: ScheduleTargetInput.fromObject(props.input ?? {}),
        retryPolicy: { maximumRetryAttempts: props.retryAttempts, maximumEventAgeInSeconds: props.maxEventAge.toSeconds() },
      }),
    };
    this.schedule = new Schedule(this, 'Schedule', {
      schedule: ScheduleExpression.rate(props.every),
      target,
      description: props.description,
      timeWindow: TimeWindow.off(),
    });
  }
}
