import { ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { TAG_STACK } from '../functions/adapters/ec2/worker-provider.ts';
import { JOB_SAGA, PROVISION_WORKER } from '../functions/declarations/statemachines.ts';
import { COUNTERS_TABLE, JOBS_TABLE, OUTBOX_TABLE, WORKERS_TABLE, type TableDefinition } from '../functions/declarations/tables.ts';
import { FLEET_ENV } from '../functions/fleet/config.ts';
import { FLEET_TABLES, type FleetWiringOptions } from '../functions/fleet/wiring.ts';
import type { ForgeflowFunction } from './lambda-function.ts';
import type { ForgeflowQueues } from './queues.ts';
import { bindTable, type TableAccess } from './table-access.ts';
import type { ForgeflowTables } from './tables.ts';

/**
 * What a fleet function is told and granted, one helper per capability, so a variable and its grant never drift
 * apart (the same idea as bindTable). The capabilities mirror FleetWiringOptions, which each handler in
 * functions/fleet/handlers passes to fleetFromEnv; test/cdk/functions.test.ts imports every handler with exactly
 * the variables its function gets and fails if one reads a variable it lacks.
 */
export type { FleetWiringOptions } from '../functions/fleet/wiring.ts';

/** What the fleet wiring needs to know of the deployment: every fleet function and the api get it. */
export interface FleetBinding {
  readonly tables: ForgeflowTables;
  readonly queues: ForgeflowQueues;
  /** The stack's name (a literal): the `forgeflow:stack` tag of its instances, FLEET_STACK_NAME. */
  readonly stackName: string;
  /** Built from the state machine's name, never from the construct (see stateMachineArnOf). */
  readonly provisionWorkerArn: string;
  readonly jobSagaArn: string;
}

/**
 * A state machine's ARN from its (literal) name. The provisioning saga's definition names its step functions, and
 * some of them (AwaitAgent) answer its task tokens: referencing the construct would make a cycle (state machine →
 * function ARN; function → role policy → state machine ARN). A name-built ARN depends on nothing.
 */
export const stateMachineArnOf = (scope: Construct, name: string) =>
  Stack.of(scope).formatArn({ service: 'states', resource: 'stateMachine', resourceName: name, arnFormat: ArnFormat.COLON_RESOURCE_NAME });

export function fleetBinding(scope: Construct, props: { tables: ForgeflowTables; queues: ForgeflowQueues; provisionWorkerName: string; jobSagaName: string }): FleetBinding {
  return {
    tables: props.tables,
    queues: props.queues,
    stackName: Stack.of(scope).stackName,
    provisionWorkerArn: stateMachineArnOf(scope, props.provisionWorkerName),
    jobSagaArn: stateMachineArnOf(scope, props.jobSagaName),
  };
}

/**
 * How the fleet's store uses each table (functions/adapters/dynamodb/worker-store.ts, rate-limiter.ts): workers
 * are read (GetItem, Query on the byInstance, byFleet and byClassState indexes), put under a version condition
 * and updated (heartbeats); each state change appends its event to the outbox; the class's active count and the
 * EC2 token buckets are read and ADDed in the counters table. Nothing deletes.
 */
const FLEET_TABLE_ACCESS = new Map<TableDefinition, TableAccess>([
  [WORKERS_TABLE, 'readWrite'],
  [OUTBOX_TABLE, 'append'],
  [COUNTERS_TABLE, 'readWrite'],
]);

/** Every table fleetFromEnv opens (FLEET_TABLES, plus the jobs table for the job releaser), at the fleet's access. */
export function bindFleetTables(fn: ForgeflowFunction, tables: ForgeflowTables, wiring: FleetWiringOptions): void {
  for (const definition of FLEET_TABLES) {
    const access = FLEET_TABLE_ACCESS.get(definition);
    if (!access) throw new Error(`The fleet opens table ${definition.id}, but lib/fleet-access.ts declares no access level for it`);
    bindTable(fn.function, tables.get(definition), access);
  }
  // The releaser reads the job (its task token) and stops the lost attempt on it: a conditional write of the job item.
  if (wiring.releaseJobs) bindTable(fn.function, tables.get(JOBS_TABLE), 'readWrite');
}

/**
 * The fleet's other variables, with their grants: the provisioning saga's ARN and the stack name always; the
 * dispatch queues' URLs and GetQueueAttributes for the queue depth; the job saga's ARN and SendTaskFailure on it
 * for the job releaser (jobs a removed worker held fail with WORKER_LOST). EC2 access differs between launching
 * and terminating, so it has helpers of its own (grantTerminateStackInstances, lib/launch-access.ts).
 */
export function bindFleetServices(fn: ForgeflowFunction, binding: FleetBinding, wiring: FleetWiringOptions): void {
  fn.function.addEnvironment(PROVISION_WORKER.envVar, binding.provisionWorkerArn);
  fn.function.addEnvironment(FLEET_ENV.stackName, binding.stackName);
  if (wiring.queueDepth) {
    const dispatch = binding.queues.dispatch;
    for (const { definition, queue } of dispatch) fn.function.addEnvironment(definition.envVar, queue.queueUrl);
    fn.function.addToRolePolicy(
      new PolicyStatement({ sid: 'ReadDispatchDepth', actions: ['sqs:GetQueueAttributes'], resources: dispatch.map(({ queue }) => queue.queueArn) }),
    );
  }
  if (wiring.releaseJobs) grantFailSagaTasks(fn, binding);
}

/**
 * The job saga's ARN and SendTaskFailure on it: the job releaser fails a removed worker's tasks with WORKER_LOST, and
 * worker-control fails one that a release left open when an agent takes its reappeared message.
 */
export function grantFailSagaTasks(fn: ForgeflowFunction, binding: FleetBinding): void {
  fn.function.addEnvironment(JOB_SAGA.envVar, binding.jobSagaArn);
  fn.function.addToRolePolicy(new PolicyStatement({ sid: 'FailSagaTasks', actions: ['states:SendTaskFailure'], resources: [binding.jobSagaArn] }));
}

/** Both of the above: a fleet function's whole binding except EC2. */
export function bindFleet(fn: ForgeflowFunction, binding: FleetBinding, wiring: FleetWiringOptions): void {
  bindFleetTables(fn, binding.tables, wiring);
  bindFleetServices(fn, binding, wiring);
}

/** StartExecution of the provisioning saga (a new worker; the reaper restarting a stuck one). */
export function grantStartProvisioning(fn: ForgeflowFunction, binding: FleetBinding): void {
  fn.function.addToRolePolicy(
    new PolicyStatement({ sid: 'StartProvisioning', actions: ['states:StartExecution'], resources: [binding.provisionWorkerArn] }),
  );
}

/** SendTaskSuccess on the provisioning saga: the AwaitAgent task token, answered when the agent registers. */
export function grantAnswerProvisioning(fn: ForgeflowFunction, binding: FleetBinding): void {
  fn.function.addToRolePolicy(
    new PolicyStatement({ sid: 'AnswerProvisioning', actions: ['states:SendTaskSuccess'], resources: [binding.provisionWorkerArn] }),
  );
}

/** cdk-nag's rendering of an ARN built by Stack.formatArn with this resource part. */
export const nagArn = (service: string, resource: string, account = '<AWS::AccountId>') =>
  `arn:<AWS::Partition>:${service}:<AWS::Region>:${account}:${resource}`;

/** Acknowledges cdk-nag IAM5 for one wildcard resource of a function's policy, with its reason. */
export function acknowledgeWildcardResource(fn: ForgeflowFunction, nagResource: string, reason: string): void {
  Validations.of(fn.role.node.findChild('DefaultPolicy')).acknowledge({ id: `AwsSolutions::AwsSolutions-IAM5[Resource::${nagResource}]`, reason });
}

/** Passed as extraWildcardReason by every function granted grantTerminateStackInstances. */
export const DESCRIBE_INSTANCES_REASON =
  'ec2:DescribeInstances supports no resource-level permissions or conditions: AWS requires Resource "*". The ' +
  "provider filters by this stack's forgeflow:stack tag or asks for one instance id.";

/**
 * TerminateInstances on this stack's instances only (the provider tags each one with `forgeflow:stack` = the stack
 * name at launch, see functions/adapters/ec2/worker-provider.ts), and DescribeInstances (unscopable: the caller
 * passes DESCRIBE_INSTANCES_REASON as extraWildcardReason).
 */
export function grantTerminateStackInstances(fn: ForgeflowFunction, binding: FleetBinding): void {
  const instances = Stack.of(fn).formatArn({ service: 'ec2', resource: 'instance', resourceName: '*' });
  fn.function.addToRolePolicy(
    new PolicyStatement({
      sid: 'TerminateStackInstances',
      actions: ['ec2:TerminateInstances'],
      resources: [instances],
      conditions: { StringEquals: { [`aws:ResourceTag/${TAG_STACK}`]: binding.stackName } },
    }),
  );
  fn.function.addToRolePolicy(new PolicyStatement({ sid: 'DescribeInstances', actions: ['ec2:DescribeInstances'], resources: ['*'] }));
  acknowledgeWildcardResource(
    fn,
    nagArn('ec2', 'instance/*'),
    `Instance ids are only known after a launch, so TerminateInstances is on instance/* with the condition ` +
      `aws:ResourceTag/${TAG_STACK} = "${binding.stackName}": only instances this stack launched (and tagged) can be terminated.`,
  );
}
