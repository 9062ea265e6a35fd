import { ArnFormat, Duration, Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { ADMISSION_QUEUE, JOB_CONTROL_QUEUE, SAGA_STARTER_QUEUE } from '../functions/declarations/queues.ts';
import { JOB_SAGA } from '../functions/declarations/statemachines.ts';
import { COUNTERS_TABLE, INBOX_TABLE, JOBS_TABLE, OUTBOX_TABLE } from '../functions/declarations/tables.ts';
import { WORKER_REPORTS_QUEUE } from '../functions/declarations/workers.ts';
import { QueueConsumerFunction } from './consumer-functions.ts';
import { bindAdmissionTables, bindSagaTables, type JobSaga } from './job-saga.ts';
import { ForgeflowFunction } from './lambda-function.ts';
import { DLQ_VISIBILITY_TIMEOUT_SECONDS, type ForgeflowQueues } from './queues.ts';
import { bindTable } from './table-access.ts';
import type { ForgeflowTables } from './tables.ts';

export interface SagaConsumerProps {
  readonly tables: ForgeflowTables;
  readonly queues: ForgeflowQueues;
  readonly saga: JobSaga;
}

/** Tells a function the saga's ARN (JOB_SAGA.envVar), which its handler reads at cold start. */
const bindSaga = (fn: LambdaFunction, stateMachine: StateMachine) => fn.addEnvironment(JOB_SAGA.envVar, stateMachine.stateMachineArn);

/** SendTaskFailure authorises on the state machine's ARN (the task token names the execution). */
const grantFailTask = (fn: LambdaFunction, stateMachine: StateMachine) =>
  fn.addToRolePolicy(new PolicyStatement({ sid: 'FailSagaTasks', actions: ['states:SendTaskFailure'], resources: [stateMachine.stateMachineArn] }));

/**
 * functions/consumers/saga-starter: JobQueued → StartExecution named after the job run. The name makes it once per
 * run, however often the event comes: the starter needs no inbox, and no table.
 */
export class SagaStarterFunction extends QueueConsumerFunction {
  constructor(scope: Construct, id: string, props: SagaConsumerProps) {
    super(scope, id, {
      entry: 'functions/consumers/saga-starter/handler.ts',
      description: 'Forgeflow saga starter: JobQueued to one job saga execution per run',
      serviceName: 'forgeflow-saga-starter',
      memorySize: 256,
      // A StartExecution per message, ten in parallel.
      timeout: Duration.seconds(20),
      queue: props.queues.get(SAGA_STARTER_QUEUE),
      // Bounds the StartExecution rate (a Standard state machine's start bucket refills at 300 per second).
      maxConcurrency: 10,
    });
    bindSaga(this.function, props.saga.stateMachine);
    props.saga.stateMachine.grantStartExecution(this.function);
    // A throttled start is put back on this same queue with a delay (never dropped to the DLQ).
    const own = props.queues.get(SAGA_STARTER_QUEUE).queue;
    this.function.addEnvironment(SAGA_STARTER_QUEUE.envVar, own.queueUrl);
    own.grantSendMessages(this.function);
  }
}

/**
 * functions/consumers/job-control: cancellations reach the saga. JobCancelled stops the waiting job's execution;
 * JobCancelRequested reads the job's task token and fails the task with CANCELLED.
 */
export class JobControlFunction extends QueueConsumerFunction {
  constructor(scope: Construct, id: string, props: SagaConsumerProps) {
    super(scope, id, {
      entry: 'functions/consumers/job-control/handler.ts',
      description: 'Forgeflow job control: cancellations to StopExecution or a CANCELLED task failure',
      serviceName: 'forgeflow-job-control',
      memorySize: 256,
      timeout: Duration.seconds(20),
      queue: props.queues.get(JOB_CONTROL_QUEUE),
      maxConcurrency: 5,
    });
    bindTable(this.function, props.tables.get(INBOX_TABLE), 'claim');
    // It only reads the job (GetItem). The handler builds a DynamoJobStore, which needs the outbox and counters
    // names too; the least level that goes with a name is `read`: it can never write either table.
    for (const table of [JOBS_TABLE, OUTBOX_TABLE, COUNTERS_TABLE]) bindTable(this.function, props.tables.get(table), 'read');
    bindSaga(this.function, props.saga.stateMachine);

    // Execution ARNs are `...:execution:<state machine name>:<execution name>`; the name is the literal one.
    const executions = Stack.of(this).formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${props.saga.stateMachineName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    this.function.addToRolePolicy(new PolicyStatement({ sid: 'StopSagaExecutions', actions: ['states:StopExecution'], resources: [executions] }));
    grantFailTask(this.function, props.saga.stateMachine);
    Validations.of(this.role.node.findChild('DefaultPolicy')).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${props.saga.stateMachineName}:*]`,
      reason:
        'StopExecution authorises on execution ARNs, whose last part is the execution name (job id and run), ' +
        'unknown until a job is queued: "<state machine>:*" is every execution of the job saga and nothing else.',
    });
  }
}

/**
 * functions/consumers/worker-reports: agents report a job's start; it records RUNNING through the saga's store
 * (the same tables and access as the saga steps) and fails the task with CANCELLED if a cancel came first.
 */
export class WorkerReportsFunction extends QueueConsumerFunction {
  constructor(scope: Construct, id: string, props: SagaConsumerProps) {
    super(scope, id, {
      entry: 'functions/consumers/worker-reports/handler.ts',
      description: 'Forgeflow worker reports: records RUNNING, fails cancelled tasks',
      serviceName: 'forgeflow-worker-reports',
      memorySize: 256,
      timeout: Duration.seconds(20),
      queue: props.queues.get(WORKER_REPORTS_QUEUE),
      maxConcurrency: 5,
    });
    bindSagaTables(this.function, props.tables);
    grantFailTask(this.function, props.saga.stateMachine);
  }
}

/**
 * functions/consumers/admission: a freed tenant slot (the AdmissionRule) admits the tenant's first parked run by
 * answering its WaitForSlot token (SendTaskSuccess), then removes its entry.
 */
export class AdmissionFunction extends QueueConsumerFunction {
  constructor(scope: Construct, id: string, props: SagaConsumerProps) {
    super(scope, id, {
      entry: 'functions/consumers/admission/handler.ts',
      description: 'Forgeflow admission: freed tenant slots admit waiting job runs',
      serviceName: 'forgeflow-admission',
      memorySize: 256,
      // A Query, a SendTaskSuccess and a DeleteItem per message (a few more for stale entries), ten in parallel.
      timeout: Duration.seconds(20),
      queue: props.queues.get(ADMISSION_QUEUE),
      maxConcurrency: 5,
    });
    bindAdmissionTables(this.function, props.tables, 'admit');
    this.function.addToRolePolicy(new PolicyStatement({ sid: 'AdmitParkedRuns', actions: ['states:SendTaskSuccess'], resources: [props.saga.stateMachine.stateMachineArn] }));
  }
}

/** Messages per invocation from a dispatch DLQ: each is one SendTaskFailure. */
export const DISPATCH_DLQ_BATCH_SIZE = 10;

/**
 * functions/consumers/dispatch-dlq: a dispatch message that no worker finished after maxReceiveCount receives
 * lands in its queue's DLQ; this function reads every dispatch DLQ and fails the task with WORKER_LOST.
 */
export class DispatchDlqFunction extends ForgeflowFunction {
  constructor(scope: Construct, id: string, props: SagaConsumerProps) {
    const timeout = Duration.seconds(20);
    if (timeout.toSeconds() > DLQ_VISIBILITY_TIMEOUT_SECONDS) throw new Error(`${id}: timeout exceeds the DLQs' visibility timeout`);
    super(scope, id, {
      entry: 'functions/consumers/dispatch-dlq/handler.ts',
      description: 'Forgeflow dispatch DLQ: fails the tasks of lost workers with WORKER_LOST',
      serviceName: 'forgeflow-dispatch-dlq',
      memorySize: 256,
      timeout,
    });
    for (const { dlq } of props.queues.dispatch) {
      this.function.addEventSource(new SqsEventSource(dlq, { batchSize: DISPATCH_DLQ_BATCH_SIZE, reportBatchItemFailures: true, maxConcurrency: 2 }));
    }
    bindSaga(this.function, props.saga.stateMachine);
    grantFailTask(this.function, props.saga.stateMachine);
  }
}
