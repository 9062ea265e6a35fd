import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App, type CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOBS_BY_OVERDUE, JOBS_BY_TENANT, JOBS_BY_TENANT_STATUS, JOBS_TABLE, OUTBOX_TABLE, TABLES, type KeyAttribute, type TableDefinition } from '../../functions/declarations/tables.ts';
import { JOB_SUMMARY_FIELDS } from '../../functions/core/job.ts';
import { TENANT_ATTRIBUTE, USER_GROUPS } from '../../lib/auth.ts';
import { ForgeflowStatefulStack } from '../../lib/stateful-stack.ts';

// The stateful stack alone: no function to bundle, so this file synthesises in well under a second.
const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as { context: Record<string, unknown> };

let outdir: string;
let stack: ForgeflowStatefulStack;
let template: Template;
type Resource = { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string; UpdateReplacePolicy?: string };

beforeAll(() => {
  // Built-in CloudFormation validation off: test/cdk/compliance.test.ts runs the one validated synth.
  outdir = mkdtempSync(path.join(tmpdir(), 'forgeflow-cdk-'));
  const app = new App({ outdir, context: cdkJson.context, builtinCloudFormationValidation: false });
  stack = new ForgeflowStatefulStack(app, 'Stateful');
  template = Template.fromStack(stack);
});

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

function tableResource(definition: TableDefinition): Resource {
  const logicalId = stack.getLogicalId(stack.tables.get(definition).table.node.defaultChild as CfnElement);
  const resource = template.toJSON().Resources[logicalId] as Resource | undefined;
  if (!resource) throw new Error(`No resource for ${definition.id}`);
  return resource;
}

const keySchema = (pk: KeyAttribute, sk?: KeyAttribute) => [
  { AttributeName: pk.name, KeyType: 'HASH' },
  ...(sk ? [{ AttributeName: sk.name, KeyType: 'RANGE' }] : []),
];

describe('tables', () => {
  it('creates exactly the declared tables', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', TABLES.length);
  });

  it.each(TABLES.map((t) => [t.id, t] as const))('%s: declared keys, on demand, PITR, encrypted with KMS, retained', (_, definition) => {
    const resource = tableResource(definition);
    expect(resource.Properties).toMatchObject({
      KeySchema: keySchema(definition.partitionKey, definition.sortKey),
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      DeletionProtectionEnabled: true,
    });
    // SSE on with no key id: KMS with the AWS managed key aws/dynamodb (see lib/tables.ts for the choice).
    expect(resource.Properties.SSESpecification).toEqual({ SSEEnabled: true });
    expect(resource.DeletionPolicy).toBe('Retain');
    expect(resource.UpdateReplacePolicy).toBe('Retain');
    expect(resource.Properties.TimeToLiveSpecification).toEqual(
      definition.ttlAttribute ? { AttributeName: definition.ttlAttribute, Enabled: true } : undefined,
    );
    expect(resource.Properties.StreamSpecification).toEqual(
      definition.stream ? { StreamViewType: definition.stream } : undefined,
    );
    expect((resource.Properties.GlobalSecondaryIndexes as unknown[] | undefined)?.length ?? 0).toBe(definition.indexes.length);
  });

  it('gives the jobs table its declared GSIs: the lists projecting the job summary, the overdue sweep keys only', () => {
    expect(JOBS_TABLE.indexes.map((i) => i.indexName)).toEqual(['byTenant', 'byTenantStatus', 'byOverdue']);
    const resource = tableResource(JOBS_TABLE);
    const summary = (keys: string[]) => ({ ProjectionType: 'INCLUDE', NonKeyAttributes: JOB_SUMMARY_FIELDS.filter((f) => !keys.includes(f)) });
    expect(resource.Properties.GlobalSecondaryIndexes).toEqual([
      { IndexName: 'byTenant', KeySchema: keySchema(JOBS_BY_TENANT.partitionKey, JOBS_BY_TENANT.sortKey), Projection: summary(['tenantId']) },
      { IndexName: 'byTenantStatus', KeySchema: keySchema(JOBS_BY_TENANT_STATUS.partitionKey, JOBS_BY_TENANT_STATUS.sortKey), Projection: summary([]) },
      { IndexName: 'byOverdue', KeySchema: keySchema(JOBS_BY_OVERDUE.partitionKey, JOBS_BY_OVERDUE.sortKey), Projection: { ProjectionType: 'KEYS_ONLY' } },
    ]);
    // Neither the command, its arguments and environment, nor the output tail is copied into a list index.
    for (const heavy of ['command', 'args', 'env', 'metadata', 'result']) expect(JSON.stringify(resource.Properties.GlobalSecondaryIndexes)).not.toContain(`"${heavy}"`);
    // Every key attribute (table and indexes) is defined once, with the declared type.
    const keys = [JOBS_TABLE.partitionKey, ...JOBS_TABLE.indexes.flatMap((i) => [i.partitionKey, i.sortKey])];
    const expected = [...new Map(keys.map((k) => [k.name, k.type])).entries()];
    expect(resource.Properties.AttributeDefinitions).toEqual(
      expect.arrayContaining(expected.map(([AttributeName, AttributeType]) => ({ AttributeName, AttributeType }))),
    );
    expect(resource.Properties.AttributeDefinitions).toHaveLength(expected.length);
  });

  it('streams the outbox as NEW_IMAGE and expires it on the declared TTL attribute', () => {
    expect(tableResource(OUTBOX_TABLE).Properties).toMatchObject({
      StreamSpecification: { StreamViewType: 'NEW_IMAGE' },
      TimeToLiveSpecification: { AttributeName: OUTBOX_TABLE.ttlAttribute, Enabled: true },
    });
  });
});

describe('cognito', () => {
  it('has an admin-only, MFA-required user pool with an immutable tenant attribute', () => {
    template.resourceCountIs('AWS::Cognito::UserPool', 1);
    template.hasResource('AWS::Cognito::UserPool', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        AdminCreateUserConfig: Match.objectLike({ AllowAdminCreateUserOnly: true }),
        MfaConfiguration: 'ON',
        EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
        UserPoolTier: 'PLUS',
        UserPoolAddOns: { AdvancedSecurityMode: 'ENFORCED' },
        DeletionProtection: 'ACTIVE',
        Policies: Match.objectLike({
          PasswordPolicy: Match.objectLike({
            MinimumLength: Match.anyValue(),
            RequireLowercase: true,
            RequireUppercase: true,
            RequireNumbers: true,
            RequireSymbols: true,
          }),
        }),
        Schema: Match.arrayWith([Match.objectLike({ Name: TENANT_ATTRIBUTE, AttributeDataType: 'String', Mutable: false })]),
      }),
    });
    const pool = Object.values(template.findResources('AWS::Cognito::UserPool'))[0] as Resource;
    const policy = (pool.Properties.Policies as { PasswordPolicy: { MinimumLength: number } }).PasswordPolicy;
    expect(policy.MinimumLength).toBeGreaterThanOrEqual(12);
  });

  it('creates the admin and operator groups', () => {
    const groups = Object.values(template.findResources('AWS::Cognito::UserPoolGroup')).map(
      (g) => (g as Resource).Properties.GroupName,
    );
    expect(groups.sort()).toEqual(['admin', 'operator', 'platform-admin']);
    expect(USER_GROUPS.map((g) => g.name).sort()).toEqual(['admin', 'operator', 'platform-admin']);
  });

  it('has one public app client for the API: no secret, SRP, no OAuth, cannot write the tenant', () => {
    template.resourceCountIs('AWS::Cognito::UserPoolClient', 1);
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      GenerateSecret: false,
      ExplicitAuthFlows: Match.arrayWith(['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH']),
      AllowedOAuthFlowsUserPoolClient: false,
      PreventUserExistenceErrors: 'ENABLED',
      ReadAttributes: Match.arrayWith([`custom:${TENANT_ATTRIBUTE}`]),
    });
    const client = Object.values(template.findResources('AWS::Cognito::UserPoolClient'))[0] as Resource;
    expect(client.Properties.WriteAttributes).not.toContain(`custom:${TENANT_ATTRIBUTE}`);
    expect(client.Properties.ExplicitAuthFlows).not.toContain('ALLOW_USER_PASSWORD_AUTH');
  });

  it('outputs the user pool id and the client id', () => {
    template.hasOutput('UserPoolId', { Value: { Ref: Match.stringLikeRegexp('UserPool') } });
    template.hasOutput('UserPoolClientId', { Value: { Ref: Match.stringLikeRegexp('ApiClient') } });
  });
});
