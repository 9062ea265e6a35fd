import { RemovalPolicy } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { JOB_LOGS } from '../functions/declarations/job-logs.ts';

/** What the agents do with the group (functions/adapters/cloudwatch-logs/job-log-store.ts): make a stream, append. */
export const JOB_LOG_SHIP_ACTIONS = ['logs:CreateLogStream', 'logs:PutLogEvents'];
/** What the api does with it: read a stream forward. */
export const JOB_LOG_READ_ACTIONS = ['logs:GetLogEvents'];

function retentionOf(days: number): RetentionDays {
  if (!(Object.values(RetentionDays) as unknown[]).includes(days)) throw new Error(`CloudWatch Logs cannot keep logs for ${days} days`);
  return days as RetentionDays;
}

/**
 * The log group of jobs' output: one stream per job attempt, kept JOB_LOGS.retentionDays. It holds tenants' data, so
 * it lives in the stateful stack and is retained like the tables. Encrypted at rest as every log group of the app
 * is, by CloudWatch Logs itself: a customer managed key would need a key policy naming the logs service of the
 * region, kept in step with this stack's roles, for no reader beyond the two below.
 *
 * The agents ship with their instance role (never the jobs: they run as another user, without the credentials) and
 * may only create streams in this group and append to them; the api may only read them. The group's ARN ends in
 * `:*`, which covers its streams and nothing else.
 */
export class JobLogs extends Construct {
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.logGroup = new LogGroup(this, 'Group', { retention: retentionOf(JOB_LOGS.retentionDays), removalPolicy: RemovalPolicy.RETAIN });
  }

  /** The agent role's statement (its policy is inline, one resource with the role). */
  shipStatement(): PolicyStatement {
    return new PolicyStatement({ sid: 'ShipJobLogs', actions: JOB_LOG_SHIP_ACTIONS, resources: [this.logGroup.logGroupArn] });
  }

  /** What the agent's environment names the group by. */
  agentEnv(): Record<string, string> {
    return { [JOB_LOGS.groupEnvVar]: this.logGroup.logGroupName };
  }

  /** The api function: reads the group's streams, and learns its name from the declared variable. */
  bindReader(fn: LambdaFunction): void {
    fn.addEnvironment(JOB_LOGS.groupEnvVar, this.logGroup.logGroupName);
    fn.addToRolePolicy(new PolicyStatement({ sid: 'ReadJobLogs', actions: JOB_LOG_READ_ACTIONS, resources: [this.logGroup.logGroupArn] }));
  }
}
