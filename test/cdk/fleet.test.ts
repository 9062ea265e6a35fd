import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOB_LOGS } from '../../functions/declarations/job-logs.ts';
import { TAG_STACK } from '../../functions/adapters/ec2/worker-provider.ts';
import { PRIORITIES } from '../../functions/core/priority.ts';
import { JOB_SAGA, PROVISION_WORKER } from '../../functions/declarations/statemachines.ts';
import { resolveWorkerClass, WORKER_CLASS_DEFINITIONS, WORKER_CLASSES, workerClassNamed } from '../../functions/declarations/worker-classes.ts';
import { dispatchQueue, WORKER_REPORTS_QUEUE } from '../../functions/declarations/workers.ts';
import { FLEET_ENV } from '../../functions/fleet/config.ts';
import { PROVISION_STEP_NAMES } from '../../functions/fleet/steps.ts';
import { functionArnKey } from '../../functions/saga/steps.ts';
import { aslPlaceholders } from '../../lib/job-saga.ts';
import { DEFAULT_STACK_PREFIX, provisionWorkerName } from '../../lib/forgeflow-app.ts';
import type { ForgeflowFunction } from '../../lib/lambda-function.ts';
import { AGENT_CONTROL_FUNCTION_ENV } from '../../lib/worker-fleet-class.ts';
import { actionsOf, resourcesOf, sorted, synthForgeflow, type ForgeflowFixture, type Json, type Resource, type Statement } from './fixture.ts';

/** The EC2 worker fleet: network, launch templates, the provisioning saga, and what each fleet function may do. */
let fixture: ForgeflowFixture;

beforeAll(() => {
  fixture = synthForgeflow();
});

afterAll(() => fixture.dispose());

const api = () => fixture.stacks.api;
const fleet = () => api().workerFleet;
const provisioning = () => fleet().provisioning;
const json = (value: unknown) => JSON.stringify(value);
const ref = (construct: { node: { defaultChild?: unknown } }) => ({ Ref: fixture.logicalId(api(), construct) });
const arn = (construct: { node: { defaultChild?: unknown } }) => ({ 'Fn::GetAtt': [fixture.logicalId(api(), construct), 'Arn'] });
const resources = (type: string) => Object.entries(fixture.api.findResources(type)) as [string, Resource][];
/** An ARN as Stack.formatArn renders it for an environment-agnostic stack. */
const formatted = (service: string, tail: string) => ({
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:${service}:`, { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:${tail}`]],
});
const provisionArn = () => formatted('states', `stateMachine:${PROVISION_WORKER.name}`);
const jobSagaArn = () => formatted('states', `stateMachine:${JOB_SAGA.name}`);
const instancesArn = () => formatted('ec2', 'instance/*');

type AslState = { Type: string; Resource?: string; TimeoutSeconds?: number; Parameters?: { FunctionName?: string } };
const asl = JSON.parse(readFileSync(PROVISION_WORKER.definitionPath, 'utf8')) as { States: Record<string, AslState> };
const stateOf = (step: string) => Object.values(asl.States).find((s) => [s.Resource, s.Parameters?.FunctionName].includes(`\${${functionArnKey(step)}}`))!;
const step = (name: (typeof PROVISION_STEP_NAMES)[number]) => provisioning().steps.get(name)!;

/** Every fleet function by name, and the workers-api, which removes workers too. */
const FUNCTIONS: Record<string, () => ForgeflowFunction> = {
  workersApi: () => api().workersApiFunction,
  workerControl: () => fleet().controlFunction,
  scaler: () => fleet().scalerFunction,
  reaper: () => fleet().reaperFunction,
  spotInterruption: () => fleet().spotInterruptionFunction,
  ...Object.fromEntries(PROVISION_STEP_NAMES.map((s) => [`provision${s}`, () => step(s)])),
};
const statementsWith = (fn: ForgeflowFunction, action: string) => fixture.statementsOf(fn).filter((s) => actionsOf(s).includes(action));
const holders = (action: string) => Object.keys(FUNCTIONS).filter((name) => statementsWith(FUNCTIONS[name]!(), action).length > 0);
const launchStatements = () => statementsWith(step('Launch'), 'ec2:RunInstances');

describe('network', () => {
  it('is a VPC of two public subnets with public IPs, an internet gateway, no NAT gateway, and flow logs of all traffic to CloudWatch Logs', () => {
    expect(resources('AWS::EC2::VPC')).toHaveLength(1);
    const subnets = resources('AWS::EC2::Subnet');
    expect(subnets).toHaveLength(2);
    for (const [, subnet] of subnets) expect(subnet.Properties.MapPublicIpOnLaunch).toBe(true);
    expect(resources('AWS::EC2::NatGateway')).toHaveLength(0);
    expect(resources('AWS::EC2::InternetGateway')).toHaveLength(1);
    const flowLogs = resources('AWS::EC2::FlowLog').map(([, f]) => f.Properties);
    expect(flowLogs).toEqual([expect.objectContaining({ ResourceType: 'VPC', TrafficType: 'ALL', LogDestinationType: 'cloud-watch-logs', LogGroupName: ref(fleet().network.flowLogs!) })]);
  });

  it('gives workers a security group with no ingress and all egress', () => {
    const group = fixture.resource(api(), fleet().network.securityGroup).Properties;
    expect(group.SecurityGroupIngress).toBeUndefined();
    expect(group.SecurityGroupEgress).toEqual([expect.objectContaining({ CidrIp: '0.0.0.0/0', IpProtocol: '-1' })]);
    expect(resources('AWS::EC2::SecurityGroupIngress')).toHaveLength(0);
  });

  it('uses an existing VPC and its subnets when given one, creating no VPC', () => {
    const network = { vpcId: 'vpc-0123456789abcdef0', subnetIds: ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'] };
    const copy = synthForgeflow({ workerNetwork: network });
    try {
      copy.api.resourceCountIs('AWS::EC2::VPC', 0);
      copy.api.resourceCountIs('AWS::EC2::FlowLog', 0);
      expect(copy.resource(copy.stacks.api, copy.stacks.api.workerFleet.network.securityGroup).Properties.VpcId).toBe(network.vpcId);
      const launch = copy.stacks.api.workerFleet.provisioning.steps.get('Launch')!;
      const [, parts] = (copy.environmentOf(launch)[FLEET_ENV.launch] as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
      expect(parts.filter((p) => typeof p === 'string').join('')).toContain(`"subnetIds":${json(network.subnetIds)}`);
      const subnets = copy.statementsOf(launch).flatMap(resourcesOf).map((r) => json(r)).filter((r) => r.includes(':subnet/'));
      expect(subnets.map((r) => /subnet\/(subnet-[0-9a-f]+)/.exec(r)![1])).toEqual(network.subnetIds);
    } finally {
      copy.dispose();
    }
  });
});

describe('launch templates', () => {
  it.each(WORKER_CLASSES.map((c) => [c] as const))('%s: IMDSv2 only with hop limit 1 and instance tags, its instance profile and the worker group, terminate on shutdown', (workerClass) => {
    const fleetClass = fleet().classes.get(workerClass)!;
    const data = fixture.resource(api(), fleetClass.launchTemplate).Properties.LaunchTemplateData as Json;
    expect(data).toEqual({
      MetadataOptions: { HttpEndpoint: 'enabled', HttpTokens: 'required', HttpPutResponseHopLimit: 1, InstanceMetadataTags: 'enabled' },
      IamInstanceProfile: { Arn: arn(fleetClass.agent.instanceProfile) },
      SecurityGroupIds: [{ 'Fn::GetAtt': [fixture.logicalId(api(), fleet().network.securityGroup), 'GroupId'] }],
      InstanceInitiatedShutdownBehavior: 'terminate',
      Monitoring: { Enabled: false },
    });
    // Nothing that RunInstances supplies per launch: AMI, instance type, subnet, user data, volumes, market.
    for (const key of ['ImageId', 'InstanceType', 'UserData', 'NetworkInterfaces', 'BlockDeviceMappings', 'InstanceMarketOptions', 'KeyName']) {
      expect(data, key).not.toHaveProperty(key);
    }
  });
});

describe('launch permissions', () => {
  const templates = () => [...fleet().classes.values()].map((c) => c.launchTemplateArn).map((a) => api().resolve(a));

  it('gives RunInstances to the Launch step alone, on this stack\'s templates and, elsewhere, only with ec2:LaunchTemplate = them', () => {
    expect(holders('ec2:RunInstances')).toEqual(['provisionLaunch']);
    const isTemplate = (s: Statement) => resourcesOf(s).every((r) => json(r).includes(':launch-template/'));
    const onTemplates = launchStatements().filter(isTemplate);
    const others = launchStatements().filter((s) => !isTemplate(s));
    expect(onTemplates.map(resourcesOf)).toEqual([templates()]);
    expect(others.length).toBeGreaterThan(0);
    for (const statement of others) expect(statement.Condition, json(statement.Resource)).toMatchObject({ ArnLike: { 'ec2:LaunchTemplate': templates() } });
    const covered = others.flatMap(resourcesOf).map((r) => json(r));
    for (const type of ['instance/*', 'volume/*', 'network-interface/*', 'spot-instances-request/*', 'image/*', 'subnet/', 'security-group/']) {
      expect(covered.some((r) => r.includes(`:${type}`)), type).toBe(true);
    }
  });

  it('creates volumes only encrypted and gp3', () => {
    const volumes = launchStatements().filter((s) => json(s.Resource).includes(':volume/*'));
    expect(volumes).toHaveLength(1);
    expect(volumes[0]!.Condition).toMatchObject({ Bool: { 'ec2:Encrypted': 'true' }, StringEquals: { 'ec2:VolumeType': 'gp3' } });
  });

  it('tags only within RunInstances, and passes only the agent roles, only to EC2', () => {
    const tags = statementsWith(step('Launch'), 'ec2:CreateTags');
    expect(tags.map((s) => s.Condition)).toEqual([{ StringEquals: { 'ec2:CreateAction': 'RunInstances' } }]);
    expect(holders('ec2:CreateTags')).toEqual(['provisionLaunch']);
    const pass = statementsWith(step('Launch'), 'iam:PassRole');
    expect(pass).toHaveLength(1);
    expect(pass[0]!.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } });
    expect(sorted(resourcesOf(pass[0]!).map(json))).toEqual(sorted([...fleet().classes.values()].map((c) => json(arn(c.agent.role)))));
    expect(holders('iam:PassRole')).toEqual(['provisionLaunch']);
  });

  it('reads exactly the SSM parameters the AMI sources name, public ones without an account', () => {
    const names = WORKER_CLASS_DEFINITIONS.flatMap((c) => Object.values(c.amis)).flatMap((s) => ('ssmParameter' in s ? [s.ssmParameter] : []));
    expect(names.length).toBeGreaterThan(0);
    const read = statementsWith(step('Launch'), 'ssm:GetParameter').flatMap(resourcesOf);
    expect(read.map(json)).toEqual(
      names.map((name) => json({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ssm:', { Ref: 'AWS::Region' }, `::parameter${name}`]] })),
    );
    expect(holders('ec2:DescribeImages')).toEqual(['provisionLaunch']);
  });

  it('gives Launch its settings: each class\'s template, the subnets, the agent bundle and the agent environment', () => {
    const [, parts] = (fixture.environmentOf(step('Launch'))[FLEET_ENV.launch] as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
    const tokens: unknown[] = [];
    const text = parts.map((p) => (typeof p === 'string' ? p : `@@${tokens.push(p) - 1}@@`)).join('');
    const token = (value: unknown) => tokens[Number(/^@@(\d+)@@$/.exec(String(value))![1])];
    const config = JSON.parse(text) as { launchTemplateIds: Json; subnetIds: string[]; agentBundle: Json; agentEnv: Record<string, Json> };
    for (const [workerClass, fleetClass] of fleet().classes) {
      expect(token(config.launchTemplateIds[workerClass])).toEqual(ref(fleetClass.launchTemplate));
      const env = config.agentEnv[workerClass]!;
      expect(token(env[AGENT_CONTROL_FUNCTION_ENV])).toEqual(arn(fleet().controlFunction.function));
      expect(token(env.AWS_REGION)).toEqual({ Ref: 'AWS::Region' });
      const queues = [...PRIORITIES.map((p) => dispatchQueue(workerClass, p)), WORKER_REPORTS_QUEUE];
      expect(sorted(Object.keys(env))).toEqual(sorted([AGENT_CONTROL_FUNCTION_ENV, 'AWS_REGION', JOB_LOGS.groupEnvVar, ...queues.map((q) => q.envVar)]));
      // The agents ship jobs' output to the stack's job log group (test/cdk/job-logs.test.ts checks the grant).
      expect(fixture.produced(token(env[JOB_LOGS.groupEnvVar]))).toEqual({ Ref: fixture.logicalId(fixture.stacks.stateful, fixture.stacks.stateful.jobLogs.logGroup) });
      for (const queue of queues) expect(fixture.produced(token(env[queue.envVar])), queue.envVar).toEqual({ Ref: fixture.logicalId(fixture.stacks.stateful, fixture.stacks.stateful.queues.get(queue).queue) });
    }
    expect(config.subnetIds.map(token)).toEqual(fleet().network.subnetIds.map((s) => api().resolve(s)));
    expect(Object.keys(config.agentBundle).sort()).toEqual(['bucket', 'key']);
  });
});

describe('terminating and describing instances', () => {
  const TERMINATORS = ['provisionTerminateInstance', 'reaper', 'spotInterruption', 'workerControl', 'workersApi'];

  it('lets exactly the workers-api, TerminateInstance, the reaper, spot handling and worker-control terminate, only instances tagged with this stack', () => {
    expect(sorted(holders('ec2:TerminateInstances'))).toEqual(TERMINATORS);
    for (const name of TERMINATORS) {
      const statements = statementsWith(FUNCTIONS[name]!(), 'ec2:TerminateInstances');
      expect(statements, name).toHaveLength(1);
      expect(statements[0]!.Resource, name).toEqual(instancesArn());
      expect(statements[0]!.Condition, name).toEqual({ StringEquals: { [`aws:ResourceTag/${TAG_STACK}`]: api().stackName } });
    }
    expect(sorted(holders('ec2:DescribeInstances'))).toEqual(TERMINATORS);
  });
});

describe('Step Functions permissions', () => {
  const grants = (fn: ForgeflowFunction) =>
    sorted(fixture.statementsOf(fn).filter((s) => actionsOf(s).some((a) => a.startsWith('states:'))).flatMap((s) => actionsOf(s).map((a) => json([a, s.Resource]))));
  const EXPECTED: Record<string, [string, unknown][]> = {
    // A new worker's provisioning; a removed worker's jobs failed. (The api's start of a job's saga, its only state
    // machine action, is pinned in test/cdk/functions.test.ts.)
    workersApi: [['states:StartExecution', provisionArn()], ['states:SendTaskFailure', jobSagaArn()]],
    // A new worker's registration; the task of an attempt stopped for a removed worker, when its release left it open.
    workerControl: [['states:SendTaskSuccess', provisionArn()], ['states:SendTaskFailure', jobSagaArn()]],
    scaler: [['states:StartExecution', provisionArn()]],
    reaper: [['states:StartExecution', provisionArn()], ['states:SendTaskFailure', jobSagaArn()]],
    spotInterruption: [],
    provisionAwaitAgent: [['states:SendTaskSuccess', provisionArn()]],
  };

  it.each(Object.keys(FUNCTIONS))('%s: exactly its state machine actions, on ARNs built from the names', (name) => {
    expect(grants(FUNCTIONS[name]!()), name).toEqual(sorted((EXPECTED[name] ?? []).map((g) => json(g))));
    const variables = fixture.environmentOf(FUNCTIONS[name]!());
    expect(variables[PROVISION_WORKER.envVar], name).toEqual(provisionArn());
    // Those that fail the job saga's tasks (the job releaser's: the workers-api and the reaper; worker-control): the
    // job saga's ARN, built from its name too.
    expect(variables[JOB_SAGA.envVar], name).toEqual(['workersApi', 'reaper', 'workerControl'].includes(name) ? jobSagaArn() : undefined);
  });

  it('names the provisioning state machine so the built ARN is its ARN, and another copy gets its own name', () => {
    expect(fixture.resource(api(), provisioning().stateMachine).Properties.StateMachineName).toBe(PROVISION_WORKER.name);
    expect(provisionWorkerName(DEFAULT_STACK_PREFIX)).toBe(PROVISION_WORKER.name);
    expect(provisionWorkerName('Dev')).not.toBe(PROVISION_WORKER.name);
  });
});

describe('provisioning state machine', () => {
  const machine = () => fixture.resource(api(), provisioning().stateMachine).Properties;

  it('is Standard, logs ALL without execution data, with retention, and traces', () => {
    expect(machine()).toMatchObject({
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false, Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: arn(provisioning().logGroup) } }] },
    });
    expect(fixture.resource(api(), provisioning().logGroup).Properties.RetentionInDays).toEqual(expect.any(Number));
  });

  it('fills every placeholder of the ASL file with its step function, AwaitAgent through waitForTaskToken', () => {
    const substitutions = machine().DefinitionSubstitutions as Record<string, unknown>;
    const placeholders = aslPlaceholders(readFileSync(PROVISION_WORKER.definitionPath, 'utf8'));
    expect(sorted(Object.keys(substitutions))).toEqual(placeholders);
    expect(placeholders).toEqual(sorted(PROVISION_STEP_NAMES.map(functionArnKey)));
    for (const name of PROVISION_STEP_NAMES) expect(substitutions[functionArnKey(name)], name).toEqual(arn(step(name).function));
    expect(stateOf('AwaitAgent').Resource).toBe('arn:aws:states:::lambda:invoke.waitForTaskToken');
    expect(JSON.parse(String(machine().DefinitionString))).toEqual(asl);
  });

  it('may invoke the step functions only (plus log delivery and X-Ray on "*")', () => {
    const statements = (resources('AWS::IAM::Policy').map(([, p]) => p) as Resource[])
      .filter((p) => json(p.Properties.Roles).includes(json({ Ref: fixture.logicalId(api(), provisioning().stateMachine.role) })))
      .flatMap((p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
    for (const action of statements.filter((s) => resourcesOf(s).includes('*')).flatMap(actionsOf)) {
      expect(action).toMatch(/^(logs:\w+Log(Delivery|Deliveries|Groups)|logs:(Put|Describe)ResourcePolic(y|ies)|xray:\w+)$/);
    }
    const scoped = statements.filter((s) => !resourcesOf(s).includes('*'));
    expect(scoped.flatMap(actionsOf)).toEqual(['lambda:InvokeFunction']);
    expect(sorted(scoped.flatMap(resourcesOf).map(json))).toEqual(sorted(PROVISION_STEP_NAMES.map((s) => json(arn(step(s).function)))));
  });
});

describe('provisioning steps', () => {
  it('are one function per step handler in functions/fleet/handlers', () => {
    const handlers = readdirSync(path.dirname(step('Launch').entry));
    for (const name of PROVISION_STEP_NAMES) expect(handlers).toContain(path.basename(step(name).entry));
  });

  it('end before their Task times out (AwaitAgent: before the shortest boot deadline)', () => {
    const bootDeadline = Math.min(...WORKER_CLASS_DEFINITIONS.map((c) => resolveWorkerClass(c, 'aws').bootDeadlineSeconds));
    for (const name of PROVISION_STEP_NAMES) {
      const limit = stateOf(name).TimeoutSeconds ?? bootDeadline;
      expect(fixture.resource(api(), step(name).function).Properties.Timeout as number, name).toBeLessThan(limit);
    }
    expect(stateOf('Launch').TimeoutSeconds).toBe(60);
  });

  it('never reference the state machine construct (no dependency cycle)', () => {
    const machineId = fixture.logicalId(api(), provisioning().stateMachine);
    for (const name of Object.keys(FUNCTIONS)) {
      const fn = FUNCTIONS[name]!();
      expect(json(fixture.resource(api(), fn.function)) + json(fixture.statementsOf(fn)), name).not.toContain(machineId);
    }
  });
});

describe('schedules', () => {
  const schedules = () => resources('AWS::Scheduler::Schedule').map(([, s]) => s.Properties);

  it.each([
    ['scaler', 'rate(1 minute)'],
    ['reaper', 'rate(5 minutes)'],
  ] as const)('%s: %s with input {}, through a role that may invoke exactly that function', (name, expression) => {
    const fn = FUNCTIONS[name]!();
    const mine = schedules().filter((s) => json((s.Target as Json).Arn) === json(arn(fn.function)));
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ ScheduleExpression: expression, FlexibleTimeWindow: { Mode: 'OFF' }, State: 'ENABLED', Target: { Input: '{}' } });
    const roleId = ((mine[0]!.Target as Json).RoleArn as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
    const role = (fixture.api.toJSON().Resources as Record<string, Resource>)[roleId]!.Properties;
    expect(json(role.AssumeRolePolicyDocument)).toContain('scheduler.amazonaws.com');
    expect(json(role.AssumeRolePolicyDocument)).toContain('aws:SourceAccount');
    const statements = (role.Policies as { PolicyDocument: { Statement: Statement[] } }[]).flatMap((p) => p.PolicyDocument.Statement);
    expect(statements.map((s) => [actionsOf(s), s.Resource])).toEqual([[['lambda:InvokeFunction'], arn(fn.function)]]);
    expect(resources('AWS::IAM::Policy').filter(([, p]) => json(p.Properties.Roles).includes(roleId))).toEqual([]);
  });

  it('are the only schedules besides the reconciler\'s sweep and the metrics collector\'s', () => {
    const others = [arn(api().reconcilerFunction.function), arn(fleet().metricsCollectorFunction.function)].map(json);
    expect(schedules().filter((s) => !others.includes(json((s.Target as Json).Arn)))).toHaveLength(2);
    expect(schedules()).toHaveLength(3 + WORKER_CLASSES.length);
  });

  it("the collector's role may call DescribeInstanceStatus, GetMetricData and the tables it writes, nothing else", () => {
    const collector = fleet().metricsCollectorFunction;
    // Its own log group and X-Ray besides; test/cdk/functions.test.ts pins the tables (workers, outbox) and their actions.
    const actions = new Set(fixture.statementsOf(collector).flatMap(actionsOf));
    expect(sorted(actions)).toEqual(
      sorted(['logs:CreateLogStream', 'logs:PutLogEvents', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments', 'ec2:DescribeInstanceStatus', 'cloudwatch:GetMetricData', 'dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:UpdateItem', 'dynamodb:PutItem']),
    );
  });

  it('collect worker metrics once per class, every metricsIntervalMinutes, with the class as input', () => {
    const collector = arn(fleet().metricsCollectorFunction.function);
    const collecting = schedules().filter((s) => json((s.Target as Json).Arn) === json(collector));
    expect(collecting.map((s) => JSON.parse(String((s.Target as Json).Input)))).toEqual(WORKER_CLASSES.map((workerClass) => ({ workerClass })));
    for (const schedule of collecting) {
      const { workerClass } = JSON.parse(String((schedule.Target as Json).Input)) as { workerClass: string };
      expect(schedule.ScheduleExpression).toBe(`rate(${workerClassNamed(workerClass, 'aws').metricsIntervalMinutes} minutes)`);
    }
  });
});

describe('spot interruption', () => {
  it('is a rule on the default bus for EC2 interruption warnings, to the spot function with retries and a DLQ', () => {
    const spot = fleet().spotInterruptionFunction;
    const rule = fixture.resource(api(), spot.rule).Properties;
    expect(rule.EventBusName).toBeUndefined();
    expect(rule.EventPattern).toEqual({ source: ['aws.ec2'], 'detail-type': ['EC2 Spot Instance Interruption Warning'] });
    expect(rule.Targets).toEqual([
      expect.objectContaining({ Arn: arn(spot.function), DeadLetterConfig: { Arn: arn(spot.targetDlq) }, RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 120 } }),
    ]);
    const dlq = fixture.resource(api(), spot.targetDlq).Properties;
    expect(dlq.SqsManagedSseEnabled).toBe(true);
    const policy = resources('AWS::SQS::QueuePolicy').find(([, p]) => json(p.Properties.Queues) === json([ref(spot.targetDlq)]))![1];
    expect((policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
  });
});

describe('agent roles', () => {
  it('may invoke worker-control and no other function; nothing else in the app may', () => {
    for (const fleetClass of fleet().classes.values()) {
      const role = fixture.resource(api(), fleetClass.agent.role).Properties;
      const statements = (role.Policies as { PolicyDocument: { Statement: Statement[] } }[]).flatMap((p) => p.PolicyDocument.Statement);
      expect(statements.filter((s) => actionsOf(s).some((a) => a.startsWith('lambda:'))).map((s) => [actionsOf(s), s.Resource])).toEqual([
        [['lambda:InvokeFunction'], arn(fleet().controlFunction.function)],
      ]);
    }
    expect(Object.keys(FUNCTIONS).filter((name) => holders('lambda:InvokeFunction').includes(name))).toEqual([]);
  });
});
