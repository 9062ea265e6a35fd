import type { CfnElement } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_ENV } from '../../functions/console/config.ts';
import { actionsOf, resourcesOf, sorted, synthForgeflow, type ForgeflowFixture, type Json, type Resource } from './fixture.ts';

/** The web console in AWS (lib/console.ts): routes of the API, its function, its hosted-UI client and domain. */
let fixture: ForgeflowFixture;
beforeAll(() => {
  fixture = synthForgeflow();
});
afterAll(() => fixture.dispose());

const api = () => fixture.stacks.api;
const id = (element: CfnElement | { node: { defaultChild?: unknown } }) => fixture.logicalId(api(), element);
const resources = (type: string) => Object.values(fixture.api.findResources(type)) as Resource[];
const apiEndpoint = () => ({ 'Fn::GetAtt': [id(api().httpApi.api), 'ApiEndpoint'] });

describe('console routes', () => {
  const routes = () => resources('AWS::ApiGatewayV2::Route').filter((r) => String(r.Properties.RouteKey).includes('/console'));

  it('serves GET /console and GET /console/{proxy+} without an authorizer, from the console function only', () => {
    expect(sorted(routes().map((r) => r.Properties.RouteKey))).toEqual(['GET /console', 'GET /console/{proxy+}']);
    for (const route of routes()) expect(route.Properties.AuthorizationType).toBe('NONE');
    const targets = new Set(routes().map((r) => JSON.stringify(r.Properties.Target)));
    expect(targets.size).toBe(1);
    const integrationId = (JSON.parse([...targets][0]!) as { 'Fn::Join': [string, [string, { Ref: string }]] })['Fn::Join'][1][1].Ref;
    const integration = fixture.api.toJSON().Resources[integrationId] as Resource;
    expect(integration.Properties.IntegrationUri).toEqual({ 'Fn::GetAtt': [id(api().console.function.function), 'Arn'] });
  });
});

describe('console sign-in', () => {
  const client = () => fixture.resource(api(), api().console.client).Properties;

  it('has a public client for the hosted UI: authorization code only, no secret, no password flows', () => {
    expect(client()).toMatchObject({
      GenerateSecret: false,
      AllowedOAuthFlows: ['code'],
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthScopes: ['openid', 'email'],
      ExplicitAuthFlows: ['ALLOW_REFRESH_TOKEN_AUTH'],
      SupportedIdentityProviders: ['COGNITO'],
      PreventUserExistenceErrors: 'ENABLED',
      EnableTokenRevocation: true,
    });
    // The tenant reaches the ID token the API reads.
    expect(client().ReadAttributes).toContain('custom:tenant');
  });

  it('sends people back to the console on this API, and nowhere else', () => {
    expect(client().CallbackURLs).toEqual([{ 'Fn::Join': ['', [apiEndpoint(), '/console/callback']] }]);
    expect(client().LogoutURLs).toEqual([{ 'Fn::Join': ['', [apiEndpoint(), '/console/jobs']] }]);
  });

  it("puts the hosted UI's domain on the stateful stack's pool, and the client on the same pool", () => {
    const [domain] = resources('AWS::Cognito::UserPoolDomain');
    const pool = { Ref: fixture.logicalId(fixture.stacks.stateful, fixture.stacks.stateful.auth.userPool) };
    expect(fixture.produced(domain!.Properties.UserPoolId)).toEqual(pool);
    expect(fixture.produced(client().UserPoolId)).toEqual(pool);
  });
});

describe('console function', () => {
  it('learns its domain and client from the variables its handler reads', () => {
    const variables = fixture.environmentOf(api().console.function);
    expect(sorted(Object.keys(variables))).toEqual(sorted(['NODE_OPTIONS', CONSOLE_ENV.authDomain, CONSOLE_ENV.clientId]));
    expect(variables[CONSOLE_ENV.clientId]).toEqual({ Ref: id(api().console.client) });
    const [, parts] = (variables[CONSOLE_ENV.authDomain] as Json)['Fn::Join'] as [string, unknown[]];
    expect(parts).toEqual(['https://', { Ref: id(api().console.domain) }, '.auth.', { Ref: 'AWS::Region' }, '.amazoncognito.com']);
  });

  it('may write its own logs and traces, and nothing else', () => {
    const statements = fixture.statementsOf(api().console.function);
    expect(sorted(statements.flatMap(actionsOf))).toEqual(sorted(['logs:CreateLogStream', 'logs:PutLogEvents', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments']));
    const logs = statements.find((s) => actionsOf(s).includes('logs:PutLogEvents'))!;
    expect(resourcesOf(logs)).toEqual([{ 'Fn::GetAtt': [id(api().console.function.logGroup), 'Arn'] }]);
  });

  it('outputs the console URL', () => {
    fixture.api.hasOutput('ConsoleUrl', { Value: { 'Fn::Join': ['', [apiEndpoint(), '/console']] } });
  });
});
