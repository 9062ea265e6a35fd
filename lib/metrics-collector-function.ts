import { Duration, Stack } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { TAG_STACK } from '../functions/adapters/ec2/worker-provider.ts';
import { OUTBOX_TABLE, WORKERS_TABLE } from '../functions/declarations/tables.ts';
import { WORKER_CLASS_DEFINITIONS, workerClassNamed } from '../functions/declarations/worker-classes.ts';
import type { FleetBinding } from './fleet-access.ts';
import { FunctionSchedule } from './function-schedule.ts';
import { ForgeflowFunction } from './lambda-function.ts';
import { bindTable } from './table-access.ts';

/** Why the collector's read actions name no resource: neither API has resource-level permissions. */
export const METRIC_READS_REASON =
  'ec2:DescribeInstanceStatus and cloudwatch:GetMetricData support no resource-level permissions: AWS requires ' +
  'Resource "*". Both only read; the collector keeps the answers for instances its workers table names.';

/**
 * Reading worker metrics: EC2 status checks and CloudWatch datapoints. Given to the collector and to the api (its
 * refresh route collects one worker now).
 */
export function grantReadWorkerMetrics(fn: ForgeflowFunction): void {
  fn.function.addToRolePolicy(new PolicyStatement({ sid: 'ReadWorkerMetrics', actions: ['ec2:DescribeInstanceStatus', 'cloudwatch:GetMetricData'], resources: ['*'] }));
}

/** MonitorInstances and UnmonitorInstances on this stack's instances only (the api's monitoring route). */
export function grantSwitchMonitoring(fn: ForgeflowFunction, binding: FleetBinding): void {
  fn.function.addToRolePolicy(
    new PolicyStatement({
      sid: 'SwitchDetailedMonitoring',
      actions: ['ec2:MonitorInstances', 'ec2:UnmonitorInstances'],
      resources: [Stack.of(fn).formatArn({ service: 'ec2', resource: 'instance', resourceName: '*' })],
      conditions: { StringEquals: { [`aws:ResourceTag/${TAG_STACK}`]: binding.stackName } },
    }),
  );
}

/**
 * functions/fleet/handlers/metrics-collector.ts, on one EventBridge Scheduler schedule per worker class (every
 * `metricsIntervalMinutes`, 5 by default, invoked with the class): reads each READY or DRAINING worker's EC2 status
 * checks, CloudWatch CPU and memory and its agent's last figures, checks thresholds, and writes the blocks and their
 * events. Its role may call DescribeInstanceStatus and GetMetricData, query and update workers, and append events.
 */
export class MetricsCollectorFunction extends ForgeflowFunction {
  readonly schedules: ReadonlyMap<string, FunctionSchedule>;

  constructor(scope: Construct, id: string, binding: FleetBinding) {
    super(scope, id, {
      entry: 'functions/fleet/handlers/metrics-collector.ts',
      description: 'Forgeflow metrics collector: EC2, CloudWatch and agent metrics per worker, thresholds',
      memorySize: 256,
      // 1,000 workers: 2 DescribeInstanceStatus pages, 4 GetMetricData calls, then writes 16 at a time.
      timeout: Duration.minutes(2),
      extraWildcardReason: METRIC_READS_REASON,
    });
    bindTable(this.function, binding.tables.get(WORKERS_TABLE), ['read', 'update']);
    bindTable(this.function, binding.tables.get(OUTBOX_TABLE), 'append');
    grantReadWorkerMetrics(this);
    const schedules = new Map<string, FunctionSchedule>();
    for (const definition of WORKER_CLASS_DEFINITIONS) {
      const every = Duration.minutes(workerClassNamed(definition.name, 'aws').metricsIntervalMinutes);
      schedules.set(
        definition.name,
        new FunctionSchedule(this, `Schedule-${definition.name}`, {
          function: this.function,
          every,
          input: { workerClass: definition.name },
          description: `Forgeflow metrics collector: workers of class ${definition.name}`,
          retryAttempts: 1,
          // A collection later than its next run is worthless: the next one reads fresher figures.
          maxEventAge: Duration.seconds(Math.max(60, every.toSeconds() - 30)),
        }),
      );
    }
    this.schedules = schedules;
  }
}
