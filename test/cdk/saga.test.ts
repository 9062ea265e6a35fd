import { WORKER_MEMORY_METRIC } from '../../functions/declarations/metrics.ts';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRIORITIES } from '../../functions/core/priority.ts';
import { JOB_SAGA } from '../../functions/declarations/statemachines.ts';
import { DISPATCH_MAX_RECEIVE_COUNT, DISPATCH_QUEUES, dispatchQueue, WORKER_CLASSES, WORKER_REPORTS_QUEUE } from '../../functions/declarations/workers.ts';
import { functionArnKey, SAGA_STEP_NAMES, type SagaStepName } from '../../functions/saga/steps.ts';
import { DEFAULT_STACK_PREFIX, jobSagaName } from '../../lib/forgeflow-app.ts';
import type { ForgeflowFunction } from '../../lib/lambda-function.ts';
import { DLQ_VISIBILITY_TIMEOUT_SECONDS } from '../../lib/queues.ts';
import { JOB_LOG_SHIP_ACTIONS } from '../../lib/job-logs.ts';
import { AGENT_DISPATCH_ACTIONS, AGENT_TASK_ACTIONS } from '../../lib/worker-agent.ts';
import { actionsOf, resourcesOf, sorted, synthForgeflow, type ForgeflowFixture, type Json, type Resource, type Statement } from './fixture.ts';

/** The job saga (step Lambdas, state machine), the consumers that drive it, the dispatch queues and the agent roles. */
let fixture: ForgeflowFixture;

beforeAll(() => {
  fixture = synthForgeflow();
});

afterAll(() => fixture.dispose());

type AslState = { Type: string; Resource?: string; TimeoutSeconds?: number };
const asl = JSON.parse(readFileSync(JOB_SAGA.definitionPath, 'utf8')) as { StartAt: string; States: Record<string, AslState> };

const api = () => fixture.stacks.api;
const stateful = () => fixture.stacks.stateful;
const saga = () => api().jobSaga;
const apiRef = (construct: { node: { defaultChild?: unknown } }) => ({ Ref: fixture.logicalId(api(), construct) });
const apiArn = (construct: { node: { defaultChild?: unknown } }) => ({ 'Fn::GetAtt': [fixture.logicalId(api(), construct), 'Arn'] });
const statefulArn = (construct: { node: { defaultChild?: unknown } }) => ({ 'Fn::GetAtt': [fixture.logicalId(stateful(), construct), 'Arn'] });
const stateMachine = () => fixture.resource(api(), saga().stateMachine).Properties;
const stepFunction = (step: (typeof SAGA_STEP_NAMES)[number]) => saga().steps.get(step)!;
const json = (value: unknown) => JSON.stringify(value);
const sameSet = (actual: unknown[], expected: unknown[]) => expect(sorted(actual.map(json))).toEqual(sorted(expected.map(json)));

/** The definition as CloudFormation will deploy it: every "${Key}" string replaced by its DefinitionSubstitutions value. */
function deployedDefinition(): { StartAt: string; States: Record<string, Json> } {
  const substitutions = stateMachine().DefinitionSubstitutions as Record<string, unknown>;
  const substitute = (value: unknown): unknown => {
    if (typeof value === 'string') {
      const match = /^\$\{([A-Za-z0-9_]+)\}$/.exec(value);
      if (!match) return value;
      expect(substitutions, value).toHaveProperty([match[1]!]);
      return substitutions[match[1]!];
    }
    if (Array.isArray(value)) return value.map(substitute);
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v)]));
    return value;
  };
  return substitute(JSON.parse(String(stateMachine().DefinitionString))) as { StartAt: string; States: Record<string, Json> };
}

/** Every statement of every IAM policy of the api stack attached to the role (by its logical id). */
function roleStatements(roleLogicalId: string): Statement[] {
  return (Object.values(fixture.api.findResources('AWS::IAM::Policy')) as Resource[])
    .filter((p) => (p.Properties.Roles as unknown[]).some((r) => json(r) === json({ Ref: roleLogicalId })))
    .flatMap((p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}

describe('state machine', () => {
  it('is a Standard state machine named from JOB_SAGA (beside the provisioning saga), logging ALL with retention and tracing', () => {
    // The job saga and the worker provisioning saga (test/cdk/fleet.test.ts).
    fixture.api.resourceCountIs('AWS::StepFunctions::StateMachine', 2);
    fixture.stateful.resourceCountIs('AWS::StepFunctions::StateMachine', 0);
    expect(stateMachine()).toMatchObject({
      StateMachineName: JOB_SAGA.name,
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: { Level: 'ALL', Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: apiArn(saga().logGroup) } }] },
    });
    expect(fixture.resource(api(), saga().logGroup).Properties.RetentionInDays).toEqual(expect.any(Number));
    // Copies of the app share an account: each gets a name of its own.
    expect(jobSagaName(DEFAULT_STACK_PREFIX)).toBe(JOB_SAGA.name);
    expect(jobSagaName('Dev')).not.toBe(JOB_SAGA.name);
  });

  it('deploys the states of the ASL file, ClaimJob as a token wait, and each Lambda Task on its step function', () => {
    const deployed = deployedDefinition();
    expect(deployed.StartAt).toBe(asl.StartAt);
    expect(Object.keys(deployed.States)).toEqual(Object.keys(asl.States));
    expect(deployed.States.ClaimJob!.Resource).toBe('arn:aws:states:::lambda:invoke.waitForTaskToken');
    for (const [name, state] of Object.entries(asl.States)) {
      const step = SAGA_STEP_NAMES.find((s) => state.Resource === `\${${functionArnKey(s)}}`);
      // A waitForTaskToken invoke names its function in Parameters.FunctionName instead.
      const invoked = SAGA_STEP_NAMES.find((s) => (state as { Parameters?: { FunctionName?: string } }).Parameters?.FunctionName === `\${${functionArnKey(s)}}`);
      if (step) expect(deployed.States[name]!.Resource, name).toEqual(apiArn(stepFunction(step).function));
      else if (invoked) expect((deployed.States[name] as { Parameters?: { FunctionName?: unknown } }).Parameters?.FunctionName, name).toEqual(apiArn(stepFunction(invoked).function));
      else expect(deployed.States[name], name).toEqual(JSON.parse(json(state)));
    }
  });

  it('references every step function through DefinitionSubstitutions, and nothing else', () => {
    const substitutions = stateMachine().DefinitionSubstitutions as Record<string, unknown>;
    expect(sorted(Object.keys(substitutions))).toEqual(sorted(SAGA_STEP_NAMES.map(functionArnKey)));
    for (const step of SAGA_STEP_NAMES) expect(substitutions[functionArnKey(step)], step).toEqual(apiArn(stepFunction(step).function));
  });

  it('may invoke the step functions only (plus log delivery and X-Ray on "*"): ClaimJob sends the dispatches', () => {
    const statements = roleStatements(fixture.logicalId(api(), saga().stateMachine.role));
    const wildcard = statements.filter((s) => resourcesOf(s).includes('*'));
    for (const action of wildcard.flatMap(actionsOf)) expect(action).toMatch(/^(logs:\w+Log(Delivery|Deliveries|Groups)|logs:(Put|Describe)ResourcePolic(y|ies)|xray:\w+)$/);
    const scoped = statements.filter((s) => !resourcesOf(s).includes('*'));
    expect(sorted(scoped.flatMap(actionsOf))).toEqual(['lambda:InvokeFunction']);
    const on = (action: string) => scoped.filter((s) => actionsOf(s).includes(action)).flatMap(resourcesOf).map((r) => fixture.local(r));
    sameSet(on('lambda:InvokeFunction'), SAGA_STEP_NAMES.map((step) => apiArn(stepFunction(step).function)));
  });
});

describe('step functions', () => {
  it('are one function per handler in functions/saga/handlers', () => {
    const handlers = readdirSync(path.dirname(stepFunction('ClaimJob').entry)).filter((f) => f.endsWith('.ts'));
    expect(sorted(SAGA_STEP_NAMES.map((step) => path.basename(stepFunction(step).entry)))).toEqual(sorted(handlers));
  });

  it('end before the Task state that invokes them times out', () => {
    for (const step of SAGA_STEP_NAMES) {
      const named = (s: (typeof asl.States)[string]) => s.Resource === `\${${functionArnKey(step)}}` || (s as { Parameters?: { FunctionName?: string } }).Parameters?.FunctionName === `\${${functionArnKey(step)}}`;
      const state = Object.values(asl.States).find(named)!;
      expect(fixture.resource(api(), stepFunction(step).function).Properties.Timeout as number, step).toBeLessThan(state.TimeoutSeconds!);
    }
  });

  it('know nothing of the state machine (no dependency cycle), and only ClaimJob knows the dispatch queue URLs', () => {
    const machineId = fixture.logicalId(api(), saga().stateMachine);
    for (const step of SAGA_STEP_NAMES) {
      const fn = stepFunction(step);
      expect(json(fixture.resource(api(), fn.function)) + json(fixture.statementsOf(fn)), step).not.toContain(machineId);
      const variables = fixture.environmentOf(fn);
      const urls = DISPATCH_QUEUES.filter((q) => q.envVar in variables);
      expect(urls.length, step).toBe(step === 'ClaimJob' ? DISPATCH_QUEUES.length : 0);
      for (const queue of urls) {
        const ref = { Ref: fixture.logicalId(stateful(), stateful().queues.get(queue).queue) };
        expect(fixture.produced(variables[queue.envVar]), queue.envVar).toEqual(ref);
      }
    }
  });
});

describe('dispatch queues', () => {
  it('take messages from ClaimJob alone of the saga: sqs:SendMessage on every dispatch queue, and on nothing else', () => {
    const sends = (step: SagaStepName) => fixture.statementsOf(stepFunction(step)).filter((s) => actionsOf(s).includes('sqs:SendMessage'));
    sameSet(sends('ClaimJob').flatMap(resourcesOf).map((r) => fixture.local(r)), stateful().queues.dispatch.map(({ queue }) => statefulArn(queue)));
    for (const step of SAGA_STEP_NAMES.filter((s) => s !== 'ClaimJob')) expect(sends(step), step).toEqual([]);
  });

  it('are one queue with a DLQ per (worker class, priority), moving a message after the declared receives', () => {
    expect(stateful().queues.dispatch).toHaveLength(WORKER_CLASSES.length * PRIORITIES.length);
    for (const workerClass of WORKER_CLASSES) {
      for (const priority of PRIORITIES) {
        const { definition, queue, dlq } = stateful().queues.get(dispatchQueue(workerClass, priority));
        expect(definition.maxReceiveCount).toBe(DISPATCH_MAX_RECEIVE_COUNT);
        expect(fixture.resource(stateful(), queue).Properties.RedrivePolicy).toEqual({ deadLetterTargetArn: statefulArn(dlq), maxReceiveCount: DISPATCH_MAX_RECEIVE_COUNT });
      }
    }
  });

  it('have their DLQs read by the dispatch-DLQ function, every one of them, with partial batch failures', () => {
    const fn = api().dispatchDlqFunction;
    const mappings = (Object.values(fixture.api.findResources('AWS::Lambda::EventSourceMapping')) as Resource[])
      .map((m) => m.Properties)
      .filter((m) => json(m.FunctionName) === json(apiRef(fn.function)));
    sameSet(mappings.map((m) => fixture.local(m.EventSourceArn)), stateful().queues.dispatch.map(({ dlq }) => statefulArn(dlq)));
    for (const mapping of mappings) expect(mapping.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    expect(fixture.resource(api(), fn.function).Properties.Timeout as number).toBeLessThanOrEqual(DLQ_VISIBILITY_TIMEOUT_SECONDS);
  });
});

describe('Step Functions permissions', () => {
  const machine = () => apiRef(saga().stateMachine);
  const states = (fn: ForgeflowFunction) => fixture.statementsOf(fn).filter((s) => actionsOf(s).some((a) => a.startsWith('states:')));
  const grants = (fn: ForgeflowFunction) => sorted(states(fn).flatMap((s) => actionsOf(s).map((a) => json([a, resourcesOf(s)]))));
  const executions = () => ({
    'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':states:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:execution:${JOB_SAGA.name}:*`]],
  });

  it('lets the saga starter start executions of the job saga, and nothing else', () => {
    expect(grants(api().sagaStarterFunction)).toEqual([json(['states:StartExecution', [machine()]])]);
  });

  it('lets job control stop the saga executions and fail their tasks; worker reports and dispatch DLQ only fail tasks', () => {
    expect(grants(api().jobControlFunction)).toEqual(sorted([json(['states:SendTaskFailure', [machine()]]), json(['states:StopExecution', [executions()]])]));
    expect(grants(api().workerReportsFunction)).toEqual([json(['states:SendTaskFailure', [machine()]])]);
    expect(grants(api().dispatchDlqFunction)).toEqual([json(['states:SendTaskFailure', [machine()]])]);
    for (const step of SAGA_STEP_NAMES) expect(states(stepFunction(step)), step).toEqual([]);
  });

  it('lets admission answer parked runs\' tokens, and nothing else', () => {
    expect(grants(api().admissionFunction)).toEqual([json(['states:SendTaskSuccess', [machine()]])]);
  });

  it('lets the reconciler read, stop and start executions of the job saga, and nothing else', () => {
    expect(grants(api().reconcilerFunction)).toEqual(
      sorted([
        json(['states:StartExecution', [machine()]]),
        ...['states:DescribeExecution', 'states:GetExecutionHistory', 'states:StopExecution'].map((action) => json([action, [executions()]])),
      ]),
    );
  });

  it('feeds the reconciler abnormal ends of this job saga (default bus, with retries and a DLQ) and a 5-minute sweep', () => {
    const reconciler = api().reconcilerFunction;
    const rule = fixture.resource(api(), reconciler.rule).Properties;
    expect(rule.EventBusName).toBeUndefined();
    expect(rule.EventPattern).toEqual({
      source: ['aws.states'],
      'detail-type': ['Step Functions Execution Status Change'],
      detail: { stateMachineArn: [machine()], status: ['FAILED', 'TIMED_OUT', 'ABORTED'] },
    });
    expect(rule.Targets).toEqual([expect.objectContaining({ DeadLetterConfig: { Arn: { 'Fn::GetAtt': [fixture.logicalId(api(), reconciler.targetDlq), 'Arn'] } }, RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 86400 } })]);
    expect(fixture.resource(api(), reconciler.schedule.schedule).Properties.ScheduleExpression).toBe('rate(5 minutes)');
  });

  it('tells the consumers that call Step Functions the state machine ARN', () => {
    for (const fn of [api().sagaStarterFunction, api().jobControlFunction, api().dispatchDlqFunction, api().reconcilerFunction]) {
      expect(fixture.environmentOf(fn)[JOB_SAGA.envVar]).toEqual(machine());
    }
  });
});

describe('worker agent role', () => {
  it.each(WORKER_CLASSES.map((c) => [c] as const))('%s: assumed by EC2 through an instance profile, with only the agent actions on its resources', (workerClass) => {
    const fleet = api().workerFleet;
    const agent = api().agentRoles.get(workerClass)!;
    const roleId = fixture.logicalId(api(), agent.role);
    const role = fixture.resource(api(), agent.role).Properties;
    expect(role.AssumeRolePolicyDocument).toMatchObject({ Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' } }] });
    expect(role.ManagedPolicyArns).toBeUndefined();
    expect(roleStatements(roleId)).toEqual([]);
    expect(fixture.resource(api(), agent.instanceProfile).Properties.Roles).toEqual([{ Ref: roleId }]);

    const all = (role.Policies as { PolicyDocument: { Statement: Statement[] } }[]).flatMap((p) => p.PolicyDocument.Statement);
    // One wildcard: the CloudWatch agent's PutMetricData, held to its namespace by a condition.
    const wildcard = all.filter((s) => resourcesOf(s).includes('*'));
    expect(wildcard).toEqual([expect.objectContaining({ Action: 'cloudwatch:PutMetricData', Condition: { StringEquals: { 'cloudwatch:namespace': WORKER_MEMORY_METRIC.namespace } } })]);
    const statements = all.filter((s) => !wildcard.includes(s));
    expect(statements.every((s) => s.Effect === 'Allow')).toBe(true);
    const on = (action: string) => statements.filter((s) => actionsOf(s).includes(action)).flatMap(resourcesOf).map((r) => fixture.local(r));
    const classQueues = PRIORITIES.map((p) => statefulArn(stateful().queues.get(dispatchQueue(workerClass, p)).queue));
    expect(sorted(new Set(statements.flatMap(actionsOf)))).toEqual(
      sorted([...AGENT_DISPATCH_ACTIONS, 'sqs:SendMessage', ...AGENT_TASK_ACTIONS, 'lambda:InvokeFunction', 's3:GetObject', ...JOB_LOG_SHIP_ACTIONS]),
    );
    // Job output goes to the stack's job log group and nowhere else.
    for (const action of JOB_LOG_SHIP_ACTIONS) expect(on(action)).toEqual([statefulArn(stateful().jobLogs.logGroup)]);
    expect(AGENT_DISPATCH_ACTIONS).toEqual(['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes']);
    expect(AGENT_TASK_ACTIONS).toEqual(['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat']);
    for (const action of AGENT_DISPATCH_ACTIONS) sameSet(on(action), classQueues);
    expect(on('sqs:SendMessage')).toEqual([statefulArn(stateful().queues.get(WORKER_REPORTS_QUEUE).queue)]);
    for (const action of AGENT_TASK_ACTIONS) expect(on(action)).toEqual([apiRef(saga().stateMachine)]);
    // The control plane through worker-control alone (its unqualified ARN), and the agent bundle's one object.
    expect(on('lambda:InvokeFunction')).toEqual([apiArn(fleet.controlFunction.function)]);
    expect(on('s3:GetObject')).toEqual([fixture.stacks.api.resolve(fleet.agentBundle.asset.bucket.arnForObjects(fleet.agentBundle.asset.s3ObjectKey))]);
  });

  it('outputs the role ARN of each worker class', () => {
    const outputs = fixture.api.toJSON().Outputs as Record<string, { Value: unknown }>;
    for (const agent of api().agentRoles.values()) {
      expect(Object.values(outputs).map((o) => json(o.Value))).toContain(json(apiArn(agent.role)));
    }
  });
});
