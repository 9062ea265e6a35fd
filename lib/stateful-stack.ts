import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ForgeflowAuth } from './auth.ts';
import { ForgeflowEventBus } from './event-bus.ts';
import { JobLogs } from './job-logs.ts';
import { ForgeflowQueues } from './queues.ts';
import { ForgeflowTables } from './tables.ts';

export interface ForgeflowStatefulStackProps extends StackProps {
  /** @default the declared bus name (EVENT_BUS.name) */
  readonly eventBusName?: string;
}

/**
 * Everything that holds data or routes it: the DynamoDB tables, the Cognito user pool, and the event backbone
 * (the EventBridge bus, its rules, the consumer queues and every dead-letter queue, with their alarms). It changes
 * rarely and every resource that holds data is retained, so the stateless stack (functions, API) can be deployed,
 * replaced or destroyed freely. The bus and rules live here too: they only route, but the queues' policies name
 * the rules, and keeping them beside the queues keeps that wiring inside one stack.
 */
export class ForgeflowStatefulStack extends Stack {
  readonly tables: ForgeflowTables;
  readonly auth: ForgeflowAuth;
  readonly queues: ForgeflowQueues;
  readonly events: ForgeflowEventBus;
  /** Jobs' output while they run and after: one stream per attempt (GET /v1/jobs/{id}/logs). */
  readonly jobLogs: JobLogs;

  constructor(scope: Construct, id: string, props: ForgeflowStatefulStackProps = {}) {
    const { eventBusName, ...stackProps } = props;
    super(scope, id, { description: 'Forgeflow state: DynamoDB tables, Cognito user pool, event bus and queues', ...stackProps });
    this.tables = new ForgeflowTables(this, 'Tables');
    this.auth = new ForgeflowAuth(this, 'Auth');
    this.queues = new ForgeflowQueues(this, 'Queues');
    this.events = new ForgeflowEventBus(this, 'Events', { queues: this.queues, eventBusName });
    this.jobLogs = new JobLogs(this, 'JobLogs');

    new CfnOutput(this, 'UserPoolId', { value: this.auth.userPool.userPoolId, description: 'Cognito user pool id' });
    new CfnOutput(this, 'UserPoolClientId', {
      value: this.auth.apiClient.userPoolClientId,
      description: 'Cognito app client id: the audience of the API JWT authorizer',
    });
    new CfnOutput(this, 'EventBusName', { value: this.events.bus.eventBusName, description: 'EventBridge bus of job events' });
    new CfnOutput(this, 'JobLogGroupName', { value: this.jobLogs.logGroup.logGroupName, description: "CloudWatch Logs group of jobs' output, one stream per attempt" });
  }
}
