import { ArnFormat, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import { Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { JOB_SAGA } from '../functions/declarations/statemachines.ts';
import { ABNORMAL_END_STATUSES, EXECUTION_STATUS_CHANGE } from '../functions/reconciler/reconcile-events.ts';
import { FunctionSchedule } from './function-schedule.ts';
import { bindSagaTables, type JobSaga } from './job-saga.ts';
import { ForgeflowFunction } from './lambda-function.ts';
import { acknowledgeDeadLetterDestination, deadLetterAlarm, QUEUE_DEFAULTS } from './queues.ts';
import type { ForgeflowTables } from './tables.ts';

export interface ReconcilerProps {
  readonly tables: ForgeflowTables;
  readonly saga: JobSaga;
}

/**
 * functions/reconciler/handler.ts: repairs jobs whose saga execution ended FAILED, TIMED_OUT or ABORTED (an
 * EventBridge rule on the default bus, where Step Functions reports status changes), and every five minutes sweeps
 * jobs held past their overdue time (the byOverdue index) for an event that never came. Failed deliveries of the
 * rule land in a DLQ of this stack, with an alarm; the sweep covers them for held jobs meanwhile.
 */
export class ReconcilerFunction extends ForgeflowFunction {
  readonly rule: Rule;
  readonly targetDlq: Queue;
  readonly alarm: Alarm;
  readonly schedule: FunctionSchedule;

  constructor(scope: Construct, id: string, props: ReconcilerProps) {
    super(scope, id, {
      entry: 'functions/reconciler/handler.ts',
      description: 'Forgeflow reconciler: jobs of saga executions that ended abnormally, and overdue jobs',
      memorySize: 256,
      // A sweep reconciles up to 100 jobs, each a few reads, a StopExecution and a commit or two.
      timeout: Duration.minutes(2),
    });
    const { stateMachine, stateMachineName } = props.saga;
    bindSagaTables(this.function, props.tables);
    this.function.addEnvironment(JOB_SAGA.envVar, stateMachine.stateMachineArn);
    // A run that goes on after its execution ended starts a new execution (its name: <job>-run-<n>-r<k>).
    stateMachine.grantStartExecution(this.function);
    const executions = Stack.of(this).formatArn({ service: 'states', resource: 'execution', resourceName: `${stateMachineName}:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    this.function.addToRolePolicy(
      new PolicyStatement({ sid: 'ReadAndStopSagaExecutions', actions: ['states:DescribeExecution', 'states:GetExecutionHistory', 'states:StopExecution'], resources: [executions] }),
    );
    Validations.of(this.role.node.findChild('DefaultPolicy')).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${stateMachineName}:*]`,
      reason:
        'DescribeExecution, GetExecutionHistory and StopExecution authorise on execution ARNs, whose last part is the ' +
        'execution name (job id and run), unknown until a job is queued: "<state machine>:*" is every execution of the job saga and nothing else.',
    });

    // Destroyed with this stack, like the spot rule's: the sweep finds what a lost event leaves held.
    this.targetDlq = new Queue(this, 'TargetDlq', { ...QUEUE_DEFAULTS, removalPolicy: RemovalPolicy.DESTROY, retentionPeriod: Duration.days(14) });
    acknowledgeDeadLetterDestination(this.targetDlq, "dead-letter queue of the reconciler rule's target");
    this.alarm = deadLetterAlarm(this.targetDlq, 'MessagesAlarm', this.targetDlq, 'Delivery of saga execution ends to the reconciler');
    this.rule = new Rule(this, 'Rule', {
      description: 'Job saga executions that ended FAILED, TIMED_OUT or ABORTED, to the reconciler',
      eventPattern: {
        source: ['aws.states'],
        detailType: [EXECUTION_STATUS_CHANGE],
        detail: { stateMachineArn: [stateMachine.stateMachineArn], status: [...ABNORMAL_END_STATUSES] },
      },
    });
    this.rule.addTarget(new LambdaFunction(this.function, { deadLetterQueue: this.targetDlq, retryAttempts: 8, maxEventAge: Duration.hours(24) }));
    this.schedule = new FunctionSchedule(this, 'Schedule', {
      function: this.function,
      every: Duration.minutes(5),
      description: 'Forgeflow reconciler: sweep overdue jobs',
      retryAttempts: 2,
      maxEventAge: Duration.minutes(4),
    });
  }
}
