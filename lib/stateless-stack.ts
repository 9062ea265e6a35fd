import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ApiFunction } from './api-function.ts';
import type { ForgeflowAuth } from './auth.ts';
import { JobHistoryFunction, WebhooksFunction } from './consumer-functions.ts';
import type { ForgeflowEventBus } from './event-bus.ts';
import { ForgeflowHttpApi } from './http-api.ts';
import type { ForgeflowQueues } from './queues.ts';
import { RelayFunction } from './relay-function.ts';
import type { ForgeflowTables } from './tables.ts';

export interface ForgeflowApiStackProps extends StackProps {
  /** From the stateful stack. */
  readonly tables: ForgeflowTables;
  /** From the stateful stack. */
  readonly auth: ForgeflowAuth;
  /** From the stateful stack. */
  readonly queues: ForgeflowQueues;
  /** From the stateful stack. */
  readonly events: ForgeflowEventBus;
}

/**
 * The stateless side: the api Lambda with the HTTP API, the outbox relay and the event consumers. It receives the
 * tables, the user pool, the bus and the queues through props.
 *
 * Why two stacks: the stateful stack holds only retained, deletion-protected resources and changes rarely, so
 * this stack (deployed on every code change) can be replaced, rolled back or torn down without CloudFormation
 * ever touching data. Cross-stack references are weak (cdk.json: `@aws-cdk/core:defaultCrossStackReferences`
 * = "weak"): the consumer reads the producer's outputs with Fn::GetStackOutput at deploy time, so there is no
 * export lock (with strong Export/ImportValue references an exported table name could never change while
 * imported). The risk of weak references, a consumer pointing at a deleted resource, does not arise for
 * resources that are retained and deletion-protected; CDK still orders the deploys (this stack depends on the
 * stateful one).
 */
export class ForgeflowApiStack extends Stack {
  readonly apiFunction: ApiFunction;
  readonly httpApi: ForgeflowHttpApi;
  readonly relayFunction: RelayFunction;
  readonly jobHistoryFunction: JobHistoryFunction;
  readonly webhooksFunction: WebhooksFunction;

  constructor(scope: Construct, id: string, props: ForgeflowApiStackProps) {
    const { tables, auth, queues, events, ...stackProps } = props;
    super(scope, id, { description: 'Forgeflow stateless: api Lambda and HTTP API, outbox relay, event consumers', ...stackProps });

    this.apiFunction = new ApiFunction(this, 'ApiFunction', { tables, eventBus: events.bus });
    this.httpApi = new ForgeflowHttpApi(this, 'HttpApi', {
      handler: this.apiFunction.function,
      userPool: auth.userPool,
      apiClient: auth.apiClient,
    });

    this.relayFunction = new RelayFunction(this, 'RelayFunction', {
      tables,
      eventBus: events.bus,
      failureQueue: queues.relayFailureQueue,
    });
    // The saga starter and job control queues get their consumers with the Step Functions stack (issue 4); until
    // then their rules still fill them, and their messages expire after the declared retention.
    this.jobHistoryFunction = new JobHistoryFunction(this, 'JobHistoryFunction', { tables, queues });
    this.webhooksFunction = new WebhooksFunction(this, 'WebhooksFunction', { tables, queues });

    new CfnOutput(this, 'ApiUrl', { value: this.httpApi.stage.url, description: 'Base URL of the job API' });
  }
}
