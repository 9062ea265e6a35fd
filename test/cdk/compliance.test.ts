import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App, CfnResource, Stack, Validations } from 'aws-cdk-lib';
import { VALIDATION_REPORT_FILE, type CloudAssembly } from 'aws-cdk-lib/cx-api';
import type { Asset } from 'aws-cdk-lib/aws-s3-assets';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RULES } from '../../functions/declarations/events.ts';
import { WORKER_CLASSES } from '../../functions/declarations/workers.ts';
import { RELAY_FAILURE_QUEUE } from '../../functions/declarations/queues.ts';
import { JOB_SAGA, PROVISION_WORKER } from '../../functions/declarations/statemachines.ts';
import { PROVISION_STEP_NAMES } from '../../functions/fleet/steps.ts';
import { SAGA_STEP_NAMES } from '../../functions/saga/steps.ts';
import { createForgeflowApp, type ForgeflowStacks } from '../../lib/forgeflow-app.ts';
import { ForgeflowFunction } from '../../lib/lambda-function.ts';

/**
 * The one fully validated synth: the app exactly as bin/app.ts builds it (cdk.json context, cdk-nag AwsSolutions),
 * with aws-cdk-lib's built-in CloudFormation validation on and its findings treated as errors
 * (`@aws-cdk/core:validateAgainstDefaultRules`). Initialising the validation engine takes ~15 s, once per process.
 *
 * cdk-nag 3 reports through CDK's policy validation (validation-report.json in the assembly), not annotations:
 * an unacknowledged error fails the synth, an unacknowledged warning only shows in the report, so the report is
 * what these tests read. Acknowledged findings stay in the report as `suppressedViolations`, with their reasons.
 */
const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as { context: Record<string, unknown> };
const context = { ...cdkJson.context, '@aws-cdk/core:validateAgainstDefaultRules': true };

interface Violation {
  ruleName: string;
  severity: string;
  description: string;
  violatingConstructs: { constructPath: string }[];
  acknowledgedId?: string;
  reason?: string;
}
interface PluginReport {
  pluginName: string;
  conclusion: string;
  violations: Violation[];
  suppressedViolations?: Violation[];
}

const ec2Wildcard = (resource: string, account = '<AWS::AccountId>') =>
  `AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:${account}:${resource}]`;
const FLEET = 'ForgeflowApi/WorkerFleet';
const PROVISIONING = `${FLEET}/${PROVISION_WORKER.id}`;

/** Every acknowledgement in the app. Adding one is a deliberate change: it must be listed here, with its place. */
const EXPECTED_ACKNOWLEDGEMENTS = [
  { id: 'AwsSolutions::AwsSolutions-APIG4', at: 'ForgeflowApi/HttpApi/HttpApi/GET--health' },
  { id: 'AwsSolutions::AwsSolutions-APIG4', at: 'ForgeflowApi/HttpApi/HttpApi/GET--openapi.json' },
  // The web console's static files (lib/console.ts): public pages; the API calls they make carry the JWT.
  { id: 'AwsSolutions::AwsSolutions-APIG4', at: 'ForgeflowApi/HttpApi/HttpApi/GET--console' },
  { id: 'AwsSolutions::AwsSolutions-APIG4', at: 'ForgeflowApi/HttpApi/HttpApi/GET--console--{proxy+}' },
  // X-Ray on "*" (Tracing.ACTIVE), plus ListStreams on "*" for the relay (DynamoEventSource); test/cdk/functions
  // pins the exact wildcard actions of each role.
  ...[
    'ApiFunction',
    'WorkersApiFunction',
    'OpenApiFunction',
    'RelayFunction',
    'WebhooksFunction',
    'SagaStarterFunction',
    'JobControlFunction',
    'WorkerReportsFunction',
    'DispatchDlqFunction',
    'ReconcilerFunction',
    'AdmissionFunction',
    'Console/Function',
    ...SAGA_STEP_NAMES.map((step) => `${JOB_SAGA.id}/${step}Function`),
    // The fleet's: X-Ray, plus ec2:DescribeInstances (terminating functions, the workers-api) or ec2:DescribeImages (Launch),
    // which take no resource; test/cdk/fleet.test.ts pins them.
    'WorkerFleet/WorkerControlFunction',
    'WorkerFleet/ScalerFunction',
    'WorkerFleet/ReaperFunction',
    'WorkerFleet/SpotInterruptionFunction',
    // X-Ray plus DescribeInstanceStatus and GetMetricData, which take no resource either.
    'WorkerFleet/MetricsCollectorFunction',
    ...PROVISION_STEP_NAMES.map((step) => `WorkerFleet/${PROVISION_WORKER.id}/${step}Function`),
  ].map((fn) => ({
    id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
    at: `ForgeflowApi/${fn}/Role/DefaultPolicy`,
  })),
  // The worker agent's PutMetricData (the CloudWatch agent's memory), confined by cloudwatch:namespace.
  ...WORKER_CLASSES.map((workerClass) => ({ id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]', at: `${FLEET}/${workerClass.replace(/(^|-)([a-z0-9])/g, (_, __, c: string) => c.toUpperCase())}Class/Agent/Role` })),
  // The state machines' log delivery and X-Ray actions, which support no resource-level permissions.
  { id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]', at: `ForgeflowApi/${JOB_SAGA.id}/StateMachine/Role/DefaultPolicy` },
  { id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]', at: `${PROVISIONING}/StateMachine/Role/DefaultPolicy` },
  // TerminateInstances on instance/* with the condition aws:ResourceTag/forgeflow:stack = this stack.
  ...[
    'ForgeflowApi/WorkersApiFunction',
    `${FLEET}/WorkerControlFunction`,
    `${FLEET}/ReaperFunction`,
    `${FLEET}/SpotInterruptionFunction`,
    `${PROVISIONING}/TerminateInstanceFunction`,
  ].map((fn) => ({ id: ec2Wildcard('instance/*'), at: `${fn}/Role/DefaultPolicy` })),
  // RunInstances on what a launch creates (ids unknown before it), only with ec2:LaunchTemplate = this stack's
  // templates; CreateTags on instances and volumes only within RunInstances.
  ...[ec2Wildcard('instance/*'), ec2Wildcard('volume/*'), ec2Wildcard('network-interface/*'), ec2Wildcard('spot-instances-request/*'), ec2Wildcard('image/*', '')].map(
    (id) => ({ id, at: `${PROVISIONING}/LaunchFunction/Role/DefaultPolicy` }),
  ),
  // StopExecution on every execution of the job saga (execution names are job runs, unknown at deploy time).
  {
    id: `AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${JOB_SAGA.name}:*]`,
    at: 'ForgeflowApi/JobControlFunction/Role/DefaultPolicy',
  },
  // Describe, GetExecutionHistory and StopExecution on the same: the reconciler reads and stops any job run's execution.
  {
    id: `AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${JOB_SAGA.name}:*]`,
    at: 'ForgeflowApi/ReconcilerFunction/Role/DefaultPolicy',
  },
  // Queues that are dead-letter destinations of something cdk-nag does not follow (rule targets, the stream mapping).
  { id: 'AwsSolutions::AwsSolutions-SQS3', at: `ForgeflowStateful/Queues/${RELAY_FAILURE_QUEUE.id}` },
  ...RULES.map((rule) => ({ id: 'AwsSolutions::AwsSolutions-SQS3', at: `ForgeflowStateful/Events/${rule.id}TargetDlq` })),
  { id: 'AwsSolutions::AwsSolutions-SQS3', at: `${FLEET}/SpotInterruptionFunction/TargetDlq` },
  { id: 'AwsSolutions::AwsSolutions-SQS3', at: 'ForgeflowApi/ReconcilerFunction/TargetDlq' },
];

const tempDirs: string[] = [];
const newOutdir = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'forgeflow-cdk-'));
  tempDirs.push(dir);
  return dir;
};

let stacks: ForgeflowStacks;
let assembly: CloudAssembly;
let reports: PluginReport[];

beforeAll(() => {
  // The validated synth must not be silently skipped by a CDK_VALIDATION=false left in the environment.
  delete process.env.CDK_VALIDATION;
  const app = new App({ outdir: newOutdir(), context });
  stacks = createForgeflowApp(app);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  // Throws (in-memory app mode under test) with the formatted report if any plugin reports an error.
  assembly = app.synth();
  reports = (JSON.parse(readFileSync(path.join(assembly.directory, VALIDATION_REPORT_FILE), 'utf8')) as { pluginReports: PluginReport[] })
    .pluginReports;
});

afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

const describeViolation = (v: Violation) => `${v.severity} ${v.ruleName} at ${v.violatingConstructs.map((c) => c.constructPath).join(', ')}`;

describe('validated synth', () => {
  it('succeeds with no CloudFormation validation findings, errors or warnings', () => {
    const cfn = reports.filter((r) => r.pluginName === 'CloudFormation Validate');
    expect(cfn.flatMap((r) => r.violations).map(describeViolation)).toEqual([]);
    expect(cfn.flatMap((r) => r.suppressedViolations ?? [])).toEqual([]);
  });

  it('has no unacknowledged finding from any plugin', () => {
    expect(reports.flatMap((r) => r.violations).map(describeViolation)).toEqual([]);
    expect(reports.every((r) => r.conclusion === 'success')).toBe(true);
  });

  it('really validates: an invalid template fails the same kind of synth', () => {
    const app = new App({ outdir: newOutdir(), context });
    const stack = new Stack(app, 'Invalid');
    new CfnResource(stack, 'Queue', { type: 'AWS::SQS::Queue', properties: { VisibilityTimeout: 'soon' } });
    expect(() => app.synth()).toThrow(/CloudFormation Validate/);
  });
});

describe('bundled assets', () => {
  it('builds the worker agent (agent/build.ts) into one .mjs file asset', () => {
    const { asset } = stacks.api.workerFleet.agentBundle;
    expect(asset.isFile).toBe(true);
    expect(asset.s3ObjectKey).toMatch(/^[0-9a-f]{64}\.mjs$/);
    const bundle = path.join(assembly.directory, asset.assetPath);
    expect(statSync(bundle).size).toBeGreaterThan(100_000);
    // The banner agent/build.ts puts first: the ESM bundle's CommonJS dependencies call require().
    expect(readFileSync(bundle, 'utf8').slice(0, 200)).toContain('createRequire');
  });

  it('bundles every function from its own entry, with its source map, and the console function with its pages', () => {
    const functions = stacks.api.node.findAll().filter((c): c is ForgeflowFunction => c instanceof ForgeflowFunction);
    expect(functions.length).toBeGreaterThan(20);
    const dirOf = (fn: ForgeflowFunction) => path.join(assembly.directory, (fn.function.node.findChild('Code') as Asset).assetPath);
    for (const fn of functions) {
      const map = JSON.parse(readFileSync(path.join(dirOf(fn), 'index.mjs.map'), 'utf8')) as { sources: string[] };
      const entry = path.relative(path.join(import.meta.dirname, '..', '..'), fn.entry);
      expect(map.sources.some((source) => source.endsWith(entry)), `${fn.node.path} bundles ${entry}`).toBe(true);
    }
    // One bundle each: CDK's asset cache must not hand one function's bundle to another.
    expect(new Set(functions.map(dirOf)).size).toBe(functions.length);
    expect(statSync(path.join(dirOf(stacks.api.console.function), 'console', 'index.html')).isFile()).toBe(true);
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('has zero unacknowledged errors or warnings', () => {
    const nag = reports.filter((r) => r.pluginName === 'AwsSolutions');
    expect(nag.flatMap((r) => r.violations).map(describeViolation)).toEqual([]);
  });

  it('emits no AwsSolutions annotations on either stack (the cdk-nag 2 channel)', () => {
    // Read from this synth's assembly: Annotations.fromStack would force a second full synth.
    const artifacts = assembly.stacks.filter((s) => [stacks.stateful.artifactId, stacks.api.artifactId].includes(s.id));
    expect(artifacts).toHaveLength(2);
    const nagMessages = artifacts
      .flatMap((artifact) => artifact.messages)
      .filter((m) => (m.level === 'error' || m.level === 'warning') && /AwsSolutions-/.test(JSON.stringify(m.entry.data)));
    expect(nagMessages).toEqual([]);
  });

  it('acknowledges only the expected findings, each at its construct and with a written reason', () => {
    const suppressed = reports.flatMap((r) => r.suppressedViolations ?? []);
    const acknowledged = suppressed.map((v) => ({ id: v.acknowledgedId, at: (v as { acknowledgedAt?: string }).acknowledgedAt }));
    expect(acknowledged).toEqual(expect.arrayContaining(EXPECTED_ACKNOWLEDGEMENTS));
    expect(acknowledged).toHaveLength(EXPECTED_ACKNOWLEDGEMENTS.length);
    for (const violation of suppressed) {
      expect(violation.reason, violation.ruleName).toMatch(/\S/);
      expect(violation.reason!.length, violation.ruleName).toBeGreaterThanOrEqual(60);
    }
  });
});
