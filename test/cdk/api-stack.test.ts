import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App, type CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COUNTERS_TABLE, JOBS_TABLE, OUTBOX_TABLE, type TableDefinition } from '../../functions/declarations/tables.ts';
import { createForgeflowApp, type ForgeflowStacks } from '../../lib/forgeflow-app.ts';

// The whole app, synthesised once for this file (bundling the api Lambda takes a few seconds).
const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as { context: Record<string, unknown> };

type Json = Record<string, unknown>;
type Resource = { Type: string; Properties: Json };
type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Sid?: string };

let outdir: string;
let stacks: ForgeflowStacks;
let api: Template;
let stateful: Template;

beforeAll(() => {
  outdir = mkdtempSync(path.join(tmpdir(), 'forgeflow-cdk-'));
  // Built-in CloudFormation validation off: test/cdk/compliance.test.ts runs the one validated synth.
  const app = new App({ outdir, context: cdkJson.context, builtinCloudFormationValidation: false });
  stacks = createForgeflowApp(app);
  api = Template.fromStack(stacks.api);
  stateful = Template.fromStack(stacks.stateful);
});

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

/** What a cross-stack reference in the api stack points at in the stateful stack (weak or strong references). */
function produced(reference: unknown): unknown {
  const ref = reference as Json;
  const outputs = stateful.toJSON().Outputs as Record<string, { Value: unknown; Export?: { Name: unknown } }>;
  const weak = ref['Fn::GetStackOutput'] as { OutputName: string } | undefined;
  if (weak) return outputs[weak.OutputName]?.Value;
  if ('Fn::ImportValue' in ref) return Object.values(outputs).find((o) => o.Export?.Name === ref['Fn::ImportValue'])?.Value;
  return undefined;
}

const logicalId = (element: CfnElement) => stacks.stateful.getLogicalId(element);
const apiLogicalId = (element: CfnElement) => stacks.api.getLogicalId(element);
const tableLogicalId = (definition: TableDefinition) =>
  logicalId(stacks.stateful.tables.get(definition).table.node.defaultChild as CfnElement);

function only<T>(resources: Record<string, unknown>): T {
  const values = Object.values(resources);
  expect(values).toHaveLength(1);
  return values[0] as T;
}

describe('api Lambda', () => {
  it('runs Node 22 or newer on arm64 with tracing, 512 MB and 10 s', () => {
    const fn = only<Resource>(api.findResources('AWS::Lambda::Function'));
    const runtime = String(fn.Properties.Runtime);
    expect(runtime).toMatch(/^nodejs\d+\.x$/);
    expect(Number(/^nodejs(\d+)/.exec(runtime)![1])).toBeGreaterThanOrEqual(22);
    expect(fn.Properties).toMatchObject({
      Architectures: ['arm64'],
      MemorySize: 512,
      Timeout: 10,
      TracingConfig: { Mode: 'Active' },
      Handler: 'index.handler',
      LoggingConfig: { LogGroup: { Ref: apiLogicalId(stacks.api.apiFunction.logGroup.node.defaultChild as CfnElement) } },
    });
  });

  it('learns each table name from the env var its declaration names', () => {
    const fn = only<Resource>(api.findResources('AWS::Lambda::Function'));
    const variables = (fn.Properties.Environment as { Variables: Json }).Variables;
    for (const table of [JOBS_TABLE, OUTBOX_TABLE, COUNTERS_TABLE]) {
      expect(produced(variables[table.envVar]), table.envVar).toEqual({ Ref: tableLogicalId(table) });
    }
    expect(variables).toMatchObject({
      NODE_OPTIONS: '--enable-source-maps',
      POWERTOOLS_SERVICE_NAME: 'forgeflow-api',
      POWERTOOLS_METRICS_NAMESPACE: 'Forgeflow',
    });
  });

  it('keeps its logs, and the access logs, for a bounded time', () => {
    const resources = api.toJSON().Resources as Record<string, Resource>;
    for (const logGroup of [stacks.api.apiFunction.logGroup, stacks.api.httpApi.accessLogs]) {
      const retention = resources[apiLogicalId(logGroup.node.defaultChild as CfnElement)]!.Properties.RetentionInDays;
      expect(retention).toEqual(expect.any(Number));
    }
  });
});

describe('api Lambda permissions', () => {
  let statements: Statement[];
  const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
  const resourcesOf = (s: Statement) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]);
  const dynamoStatements = () => statements.filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')));

  beforeAll(() => {
    const policies = Object.values(api.findResources('AWS::IAM::Policy')) as Resource[];
    statements = policies.flatMap((p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
    api.resourceCountIs('AWS::IAM::ManagedPolicy', 0);
    const role = only<Resource>(api.findResources('AWS::IAM::Role'));
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  });

  it('grants no dynamodb wildcard action', () => {
    for (const statement of statements) {
      for (const action of actionsOf(statement)) expect(action).not.toMatch(/^dynamodb:.*\*|^\*$/);
    }
  });

  it('scopes every DynamoDB statement to a table ARN or a declared index ARN', () => {
    const tables = [JOBS_TABLE, OUTBOX_TABLE, COUNTERS_TABLE];
    const arnOf = (t: TableDefinition) => ({ 'Fn::GetAtt': [tableLogicalId(t), 'Arn'] });
    expect(dynamoStatements().length).toBeGreaterThan(0);
    for (const statement of dynamoStatements()) {
      for (const resource of resourcesOf(statement)) {
        expect(resource).not.toBe('*');
        expect(JSON.stringify(resource)).not.toContain('*');
        const join = (resource as Json)['Fn::Join'] as [string, unknown[]] | undefined;
        if (join) {
          const [table, suffix] = join[1];
          const owner = tables.find((t) => JSON.stringify(produced(table)) === JSON.stringify(arnOf(t)));
          expect(owner, JSON.stringify(resource)).toBeDefined();
          expect(owner!.indexes.map((i) => `/index/${i.indexName}`)).toContain(suffix);
          expect(actionsOf(statement)).toEqual(['dynamodb:Query']);
        } else {
          expect(tables.map(arnOf)).toContainEqual(produced(resource));
        }
      }
    }
  });

  it('gives the jobs and counters tables read+write, the outbox PutItem only', () => {
    const actionsOn = (t: TableDefinition) =>
      dynamoStatements()
        .filter((s) => resourcesOf(s).some((r) => JSON.stringify(produced(r)) === JSON.stringify({ 'Fn::GetAtt': [tableLogicalId(t), 'Arn'] })))
        .flatMap(actionsOf)
        .sort();
    const readWrite = ['dynamodb:BatchGetItem', 'dynamodb:ConditionCheckItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'];
    expect(actionsOn(JOBS_TABLE)).toEqual(readWrite);
    expect(actionsOn(COUNTERS_TABLE)).toEqual(readWrite);
    expect(actionsOn(OUTBOX_TABLE)).toEqual(['dynamodb:PutItem']);
  });

  it('uses Resource "*" only for the X-Ray actions, which have no resource-level permissions', () => {
    const wildcard = statements.filter((s) => resourcesOf(s).includes('*'));
    expect(wildcard.flatMap(actionsOf).sort()).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
  });
});

describe('HTTP API', () => {
  const routes = () => Object.values(api.findResources('AWS::ApiGatewayV2::Route')) as Resource[];
  const route = (key: string) => routes().find((r) => r.Properties.RouteKey === key);

  it('has exactly the public health route and the authorised /v1 proxy', () => {
    expect(routes().map((r) => r.Properties.RouteKey).sort()).toEqual(['ANY /v1/{proxy+}', 'GET /health']);
  });

  it('serves GET /health without an authorizer', () => {
    expect(route('GET /health')!.Properties.AuthorizationType).toBe('NONE');
    expect(route('GET /health')!.Properties.AuthorizerId).toBeUndefined();
  });

  it('puts ANY /v1/{proxy+} behind the Cognito JWT authorizer', () => {
    const authorizers = api.findResources('AWS::ApiGatewayV2::Authorizer');
    const [authorizerId, authorizer] = Object.entries(authorizers)[0] as [string, Resource];
    expect(Object.keys(authorizers)).toHaveLength(1);
    expect(route('ANY /v1/{proxy+}')!.Properties).toMatchObject({ AuthorizationType: 'JWT', AuthorizerId: { Ref: authorizerId } });

    const jwt = authorizer.Properties.JwtConfiguration as { Audience: unknown[]; Issuer: Json };
    expect(authorizer.Properties).toMatchObject({ AuthorizerType: 'JWT', IdentitySource: ['$request.header.Authorization'] });
    expect(jwt.Audience.map(produced)).toEqual([{ Ref: logicalId(stacks.stateful.auth.apiClient.node.defaultChild as CfnElement) }]);
    const [, parts] = jwt.Issuer['Fn::Join'] as [string, unknown[]];
    expect(parts.slice(0, 3)).toEqual(['https://cognito-idp.', { Ref: 'AWS::Region' }, '.amazonaws.com/']);
    expect(produced(parts[3])).toEqual({ Ref: logicalId(stacks.stateful.auth.userPool.node.defaultChild as CfnElement) });
  });

  it('logs every request as JSON from the $default stage, with throttling', () => {
    const stage = only<Resource>(api.findResources('AWS::ApiGatewayV2::Stage'));
    expect(stage.Properties).toMatchObject({
      StageName: '$default',
      AutoDeploy: true,
      AccessLogSettings: {
        DestinationArn: { 'Fn::GetAtt': [apiLogicalId(stacks.api.httpApi.accessLogs.node.defaultChild as CfnElement), 'Arn'] },
      },
      DefaultRouteSettings: { ThrottlingRateLimit: expect.any(Number), ThrottlingBurstLimit: expect.any(Number) },
    });
    const format = JSON.parse((stage.Properties.AccessLogSettings as { Format: string }).Format) as Json;
    expect(format).toMatchObject({
      requestId: '$context.requestId',
      ip: '$context.identity.sourceIp',
      routeKey: '$context.routeKey',
      status: '$context.status',
      latency: '$context.responseLatency',
    });
  });

  it('outputs the API URL', () => {
    api.hasOutput('ApiUrl', { Value: Match.objectLike({ 'Fn::Join': Match.anyValue() }) });
  });
});
