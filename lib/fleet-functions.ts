import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import { Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { SCALER_QUEUE } from '../functions/declarations/queues.ts';
import { JOBS_TABLE } from '../functions/declarations/tables.ts';
import { WORKER_CONTROL_TIMEOUT_SECONDS } from '../functions/declarations/workers.ts';
import { QueueConsumerFunction } from './consumer-functions.ts';
import {
  bindFleet,
  DESCRIBE_INSTANCES_REASON,
  grantAnswerProvisioning,
  grantFailSagaTasks,
  grantStartProvisioning,
  grantTerminateStackInstances,
  type FleetBinding,
} from './fleet-access.ts';
import { FunctionSchedule } from './function-schedule.ts';
import { ForgeflowFunction } from './lambda-function.ts';
import { acknowledgeDeadLetterDestination, deadLetterAlarm, QUEUE_DEFAULTS } from './queues.ts';
import { bindTable } from './table-access.ts';

// The fleet handlers set their Powertools service names in code (functions/fleet/handlers/*.ts), so these
// functions get no POWERTOOLS_* variables: a variable no handler reads would only mislead.

/**
 * functions/fleet/handlers/worker-control.ts: the agents' only way into the control plane, invoked synchronously
 * (register, heartbeat, the scale-in handshake, goodbye, and each job's start). It checks an agent's identity against DescribeInstances,
 * terminates drained instances, answers the provisioning saga's AwaitAgent token on registration, and fails the job
 * saga's task of an attempt stopped for a removed worker when the release left it open.
 */
export class WorkerControlFunction extends ForgeflowFunction {
  constructor(scope: Construct, id: string, binding: FleetBinding) {
    super(scope, id, {
      entry: 'functions/fleet/handlers/worker-control.ts',
      description: 'Forgeflow worker control: agent registration, heartbeats and drains',
      memorySize: 256,
      timeout: Duration.seconds(WORKER_CONTROL_TIMEOUT_SECONDS),
      extraWildcardReason: DESCRIBE_INSTANCES_REASON,
    });
    bindFleet(this, binding, { ec2: true, queueDepth: false, releaseJobs: false });
    // A job's start is recorded through the saga's store (functions/saga/wiring.ts): the job updated in place on the
    // condition that it is as the dispatch said (or read and put when it is not); the outbox and counters access the
    // fleet already has covers its event and counters.
    bindTable(this.function, binding.tables.get(JOBS_TABLE), ['read', 'write']);
    grantTerminateStackInstances(this, binding);
    grantAnswerProvisioning(this, binding);
    grantFailSagaTasks(this, binding);
  }
}

/**
 * functions/fleet/handlers/scaler.ts: reconciles each class's fleet with its dispatch queues' depth, every minute
 * (a schedule) and on each JobDispatched (the declared scaler queue, fed by the ScalerNudgeRule), starting one
 * provisioning execution per worker it adds.
 */
export class ScalerFunction extends QueueConsumerFunction {
  readonly schedule: FunctionSchedule;

  constructor(scope: Construct, id: string, binding: FleetBinding) {
    super(scope, id, {
      entry: 'functions/fleet/handlers/scaler.ts',
      description: 'Forgeflow scaler: fleet size from dispatch queue depth',
      memorySize: 256,
      // Four GetQueueAttributes and a few conditional writes per class; under the queue's 60 s visibility.
      timeout: Duration.seconds(30),
      queue: binding.queues.get(SCALER_QUEUE),
      // Reconciles are idempotent per class: more in parallel would only contend on the same counters.
      maxConcurrency: 2,
    });
    bindFleet(this, binding, { ec2: false, queueDepth: true, releaseJobs: false });
    grantStartProvisioning(this, binding);
    // A missed minute is covered by the next one: no retries, and no older invocation is worth making.
    this.schedule = new FunctionSchedule(this, 'Schedule', {
      function: this.function,
      every: Duration.minutes(1),
      description: 'Forgeflow scaler: reconcile every worker class',
      retryAttempts: 0,
      maxEventAge: Duration.minutes(1),
    });
  }
}

/**
 * functions/fleet/handlers/reaper.ts: every five minutes, ends what the happy paths left behind: workers whose
 * agent stopped heartbeating or never registered (their jobs' tasks fail with WORKER_LOST through the job saga),
 * instances of this stack no worker owns, workers past their lifetime, and provisioning that never started.
 */
export class ReaperFunction extends ForgeflowFunction {
  readonly schedule: FunctionSchedule;

  constructor(scope: Construct, id: string, binding: FleetBinding) {
    super(scope, id, {
      entry: 'functions/fleet/handlers/reaper.ts',
      description: 'Forgeflow reaper: lost workers, orphaned instances, expired workers',
      memorySize: 256,
      // One sweep of every class: queries, DescribeInstances pages, batched terminations.
      timeout: Duration.minutes(2),
      extraWildcardReason: DESCRIBE_INSTANCES_REASON,
    });
    bindFleet(this, binding, { ec2: true, queueDepth: false, releaseJobs: true });
    grantTerminateStackInstances(this, binding);
    grantStartProvisioning(this, binding);
    this.schedule = new FunctionSchedule(this, 'Schedule', {
      function: this.function,
      every: Duration.minutes(5),
      description: 'Forgeflow reaper: sweep the fleet',
      retryAttempts: 2,
      maxEventAge: Duration.minutes(4),
    });
  }
}

/** The interruption warning comes two minutes ahead: delivering it later is worthless. */
export const SPOT_WARNING_MAX_AGE = Duration.minutes(2);

/**
 * functions/fleet/handlers/spot-interruption.ts, on an EventBridge rule of the default bus (where EC2 sends "EC2
 * Spot Instance Interruption Warning"): the worker drains at once and gives its jobs back. Events for instances of
 * other stacks find no worker and are ignored. A delivery EventBridge gives up on lands in a DLQ of this stack,
 * with an alarm: the rule must sit beside the function (a rule in the stateful stack would need this stack's
 * function ARN), and so must the DLQ, whose policy names the rule.
 */
export class SpotInterruptionFunction extends ForgeflowFunction {
  readonly rule: Rule;
  readonly targetDlq: Queue;
  readonly alarm: Alarm;

  constructor(scope: Construct, id: string, binding: FleetBinding) {
    super(scope, id, {
      entry: 'functions/fleet/handlers/spot-interruption.ts',
      description: 'Forgeflow spot interruption: drain the worker of a reclaimed instance',
      memorySize: 256,
      timeout: Duration.seconds(20),
      extraWildcardReason: DESCRIBE_INSTANCES_REASON,
    });
    bindFleet(this, binding, { ec2: true, queueDepth: false, releaseJobs: false });
    grantTerminateStackInstances(this, binding);

    // Unlike the stateful stack's queues, destroyed with this stack: a stale spot warning is worth nothing.
    this.targetDlq = new Queue(this, 'TargetDlq', { ...QUEUE_DEFAULTS, removalPolicy: RemovalPolicy.DESTROY, retentionPeriod: Duration.days(14) });
    acknowledgeDeadLetterDestination(this.targetDlq, "dead-letter queue of the spot interruption rule's target");
    this.alarm = deadLetterAlarm(this.targetDlq, 'MessagesAlarm', this.targetDlq, 'Delivery of spot interruption warnings');

    this.rule = new Rule(this, 'Rule', {
      description: 'EC2 spot interruption warnings, to drain the worker of the instance',
      eventPattern: { source: ['aws.ec2'], detailType: ['EC2 Spot Instance Interruption Warning'] },
    });
    this.rule.addTarget(new LambdaFunction(this.function, { deadLetterQueue: this.targetDlq, retryAttempts: 2, maxEventAge: SPOT_WARNING_MAX_AGE }));
  }
}
