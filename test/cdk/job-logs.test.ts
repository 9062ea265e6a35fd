import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOB_LOGS } from '../../functions/declarations/job-logs.ts';
import { JOB_LOG_READ_ACTIONS, JOB_LOG_SHIP_ACTIONS } from '../../lib/job-logs.ts';
import { actionsOf, resourcesOf, type ForgeflowFixture, type Resource, type Statement, synthForgeflow } from './fixture.ts';

/** The job log group: where it lives, how long it keeps output, and who may do what with it. */
let fixture: ForgeflowFixture;
beforeAll(() => {
  fixture = synthForgeflow();
});
afterAll(() => fixture.dispose());

const group = () => fixture.stacks.stateful.jobLogs.logGroup;
const groupArn = () => ({ 'Fn::GetAtt': [fixture.logicalId(fixture.stacks.stateful, group()), 'Arn'] });
const groupName = () => ({ Ref: fixture.logicalId(fixture.stacks.stateful, group()) });
const mentionsLogs = (s: Statement) => actionsOf(s).some((a) => a.startsWith('logs:'));
/** Statements on the job log group, wherever they are (cross-stack references resolved to the stateful stack). */
const onGroup = (statements: Statement[]) =>
  statements.filter((s) => resourcesOf(s).some((r) => JSON.stringify(fixture.local(r)) === JSON.stringify(groupArn())));

describe('job log group', () => {
  it(`is in the stateful stack, retained, and keeps output ${JOB_LOGS.retentionDays} days`, () => {
    const resource = fixture.resource(fixture.stacks.stateful, group());
    expect(resource.Type).toBe('AWS::Logs::LogGroup');
    expect(resource.Properties.RetentionInDays).toBe(JOB_LOGS.retentionDays);
    expect(resource.DeletionPolicy).toBe('Retain');
    expect(resource.UpdateReplacePolicy).toBe('Retain');
    // Encrypted by CloudWatch Logs itself, as every other log group of the app (lib/job-logs.ts says why).
    expect(resource.Properties.KmsKeyId).toBeUndefined();
  });

  it('lets the worker agents only create streams in it and append to them', () => {
    for (const fleetClass of fixture.stacks.api.workerFleet.classes.values()) {
      const role = fixture.resource(fixture.stacks.api, fleetClass.agent.role).Properties;
      const statements = (role.Policies as { PolicyDocument: { Statement: Statement[] } }[]).flatMap((p) => p.PolicyDocument.Statement);
      const logs = statements.filter(mentionsLogs);
      expect(logs).toEqual([{ Sid: 'ShipJobLogs', Effect: 'Allow', Action: JOB_LOG_SHIP_ACTIONS, Resource: expect.anything() }]);
      expect(fixture.local(logs[0]!.Resource)).toEqual(groupArn());
      // And the agent learns the group's name from the declared variable, through the launch settings.
      expect(fixture.local(fixture.stacks.api.resolve(fleetClass.agentEnv[JOB_LOGS.groupEnvVar]))).toEqual(groupName());
    }
  });

  it('lets the api only read its streams, and names the group to it', () => {
    const api = fixture.stacks.api.apiFunction;
    const logs = fixture.statementsOf(api).filter(mentionsLogs);
    const toGroup = onGroup(logs);
    expect(toGroup.map((s) => actionsOf(s))).toEqual([JOB_LOG_READ_ACTIONS]);
    // Its other logs: statements are the writes to its own log group, nothing on the job log group.
    for (const statement of logs.filter((s) => !toGroup.includes(s))) {
      expect(JSON.stringify(statement.Resource)).toContain(fixture.logicalId(fixture.stacks.api, api.logGroup));
    }
    expect(fixture.local(fixture.environmentOf(api)[JOB_LOGS.groupEnvVar])).toEqual(groupName());
  });

  it('is granted to no one else', () => {
    const policies = [fixture.stateful, fixture.api].flatMap((template) => Object.values(template.findResources('AWS::IAM::Policy')) as Resource[]);
    const roles = [fixture.stateful, fixture.api].flatMap((template) => Object.values(template.findResources('AWS::IAM::Role')) as Resource[]);
    const statements = [
      ...policies.flatMap((p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement),
      ...roles.flatMap((r) => ((r.Properties.Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[]).flatMap((p) => p.PolicyDocument.Statement)),
    ];
    const grants = onGroup(statements).map((s) => s.Sid);
    expect(grants.sort()).toEqual(['ReadJobLogs', ...Array(fixture.stacks.api.workerFleet.classes.size).fill('ShipJobLogs')].sort());
  });

  it("gives the api function time for a follow's longest wait", () => {
    const timeout = fixture.resource(fixture.stacks.api, fixture.stacks.api.apiFunction.function).Properties.Timeout as number;
    expect(timeout).toBeGreaterThan(JOB_LOGS.followWaitSeconds);
    // Under API Gateway's 30 s integration limit: a slower answer would be a 503 from the gateway.
    expect(timeout).toBeLessThan(30);
  });
});
