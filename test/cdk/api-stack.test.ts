import type { CfnElement } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_TIMEOUT_SECONDS, JOB_LOGS } from '../../functions/declarations/job-logs.ts';
import { EVENT_BUS } from '../../functions/declarations/events.ts';
import { HTTP_FUNCTION_NAMES, HTTP_FUNCTIONS } from '../../functions/declarations/http-functions.ts';
import { PUBLIC_ROUTE_KEYS, routeKey } from '../../functions/declarations/public-routes.ts';
import { TABLES } from '../../functions/declarations/tables.ts';
import type { ForgeflowStacks } from '../../lib/forgeflow-app.ts';
import { synthForgeflow, type ForgeflowFixture, type Json, type Resource } from './fixture.ts';

// The api Lambda's own settings and the HTTP API. What every function may do (IAM) and which variables it gets
// are checked for all functions together in test/cdk/functions.test.ts.
let fixture: ForgeflowFixture;
let stacks: ForgeflowStacks;
let api: Template;

beforeAll(() => {
  fixture = synthForgeflow();
  ({ stacks, api } = fixture);
});

afterAll(() => fixture.dispose());

const produced = (reference: unknown) => fixture.produced(reference);
const logicalId = (element: CfnElement) => stacks.stateful.getLogicalId(element);
const apiLogicalId = (element: CfnElement) => stacks.api.getLogicalId(element);

function only<T>(resources: Record<string, unknown>): T {
  const values = Object.values(resources);
  expect(values).toHaveLength(1);
  return values[0] as T;
}

describe('api Lambda', () => {
  const apiFunction = () => fixture.resource(stacks.api, stacks.api.apiFunction.function);

  it(`runs Node 22 or newer on arm64 with tracing, 512 MB and ${API_TIMEOUT_SECONDS} s (a follow of a job's output waits up to ${JOB_LOGS.followWaitSeconds} s)`, () => {
    const fn = apiFunction();
    const runtime = String(fn.Properties.Runtime);
    expect(runtime).toMatch(/^nodejs\d+\.x$/);
    expect(Number(/^nodejs(\d+)/.exec(runtime)![1])).toBeGreaterThanOrEqual(22);
    expect(fn.Properties).toMatchObject({
      Architectures: ['arm64'],
      MemorySize: 512,
      Timeout: API_TIMEOUT_SECONDS,
      TracingConfig: { Mode: 'Active' },
      Handler: 'index.handler',
      LoggingConfig: { LogGroup: { Ref: apiLogicalId(stacks.api.apiFunction.logGroup.node.defaultChild as CfnElement) } },
    });
  });

  it('learns each table name and the bus name from the env var its declaration names', () => {
    const variables = fixture.environmentOf(stacks.api.apiFunction);
    const used = TABLES.filter((table) => table.envVar in variables);
    expect(used.length).toBeGreaterThan(0);
    for (const table of used) {
      const tableId = logicalId(stacks.stateful.tables.get(table).table.node.defaultChild as CfnElement);
      expect(produced(variables[table.envVar]), table.envVar).toEqual({ Ref: tableId });
    }
    expect(produced(variables[EVENT_BUS.envVar])).toEqual({ Ref: logicalId(stacks.stateful.events.bus.node.defaultChild as CfnElement) });
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

  it('has a role of its own with no managed policy', () => {
    api.resourceCountIs('AWS::IAM::ManagedPolicy', 0);
    const roles = Object.values(api.findResources('AWS::IAM::Role')) as Resource[];
    for (const role of roles) expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    expect(fixture.resource(stacks.api, stacks.api.apiFunction.function).Properties.Role).toEqual({
      'Fn::GetAtt': [apiLogicalId(stacks.api.apiFunction.role.node.defaultChild as CfnElement), 'Arn'],
    });
  });
});

describe('HTTP API', () => {
  const routes = () => Object.values(api.findResources('AWS::ApiGatewayV2::Route')) as Resource[];
  const route = (key: string) => routes().find((r) => r.Properties.RouteKey === key);

  it('has exactly the public health, description and console routes and the authorised /v1 proxies', () => {
    expect(routes().map((r) => r.Properties.RouteKey).sort()).toEqual([
      'ANY /v1/workers',
      'ANY /v1/workers/{proxy+}',
      'ANY /v1/{proxy+}',
      'GET /console',
      'GET /console/{proxy+}',
      'GET /health',
      'GET /openapi.json',
    ]);
  });

  it.each(HTTP_FUNCTION_NAMES)('sends the routes HTTP_FUNCTIONS declares for %s to that function alone', (name) => {
    const fn = { api: stacks.api.apiFunction, workersApi: stacks.api.workersApiFunction, openApi: stacks.api.openApiFunction }[name];
    const functionArn = { 'Fn::GetAtt': [apiLogicalId(fn.function.node.defaultChild as CfnElement), 'Arn'] };
    const integrations = api.findResources('AWS::ApiGatewayV2::Integration') as Record<string, Resource>;
    const ownIntegrations = Object.keys(integrations).filter((id) => JSON.stringify(integrations[id]!.Properties.IntegrationUri) === JSON.stringify(functionArn));
    expect(ownIntegrations).toHaveLength(1);
    const served = routes().filter((r) => JSON.stringify(r.Properties.Target).includes(`"${ownIntegrations[0]}"`));
    expect(served.map((r) => r.Properties.RouteKey).sort()).toEqual(HTTP_FUNCTIONS[name].routes.map(routeKey).sort());
  });

  it.each(PUBLIC_ROUTE_KEYS)('serves %s without an authorizer', (key) => {
    expect(route(key)!.Properties.AuthorizationType).toBe('NONE');
    expect(route(key)!.Properties.AuthorizerId).toBeUndefined();
  });

  it('puts the /v1 routes behind the Cognito JWT authorizer', () => {
    const authorizers = api.findResources('AWS::ApiGatewayV2::Authorizer');
    const [authorizerId, authorizer] = Object.entries(authorizers)[0] as [string, Resource];
    expect(Object.keys(authorizers)).toHaveLength(1);
    for (const key of ['ANY /v1/{proxy+}', 'ANY /v1/workers', 'ANY /v1/workers/{proxy+}']) {
      expect(route(key)!.Properties, key).toMatchObject({ AuthorizationType: 'JWT', AuthorizerId: { Ref: authorizerId } });
    }

    const jwt = authorizer.Properties.JwtConfiguration as { Audience: unknown[]; Issuer: Json };
    expect(authorizer.Properties).toMatchObject({ AuthorizerType: 'JWT', IdentitySource: ['$request.header.Authorization'] });
    // The API's client and the console's (lib/console.ts, in this stack): ID tokens of either are accepted.
    expect(jwt.Audience.map((audience) => produced(audience) ?? audience)).toEqual([
      { Ref: logicalId(stacks.stateful.auth.apiClient.node.defaultChild as CfnElement) },
      { Ref: apiLogicalId(stacks.api.console.client.node.defaultChild as CfnElement) },
    ]);
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
