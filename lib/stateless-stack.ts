import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ApiFunction } from './api-function.ts';
import type { ForgeflowAuth } from './auth.ts';
import { ForgeflowHttpApi } from './http-api.ts';
import type { ForgeflowTables } from './tables.ts';

export interface ForgeflowApiStackProps extends StackProps {
  /** From the stateful stack. */
  readonly tables: ForgeflowTables;
  /** From the stateful stack. */
  readonly auth: ForgeflowAuth;
}

/**
 * The stateless side: the api Lambda and the HTTP API. It receives the tables and the user pool through props.
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

  constructor(scope: Construct, id: string, props: ForgeflowApiStackProps) {
    const { tables, auth, ...stackProps } = props;
    super(scope, id, { description: 'Forgeflow API: api Lambda and HTTP API', ...stackProps });

    this.apiFunction = new ApiFunction(this, 'ApiFunction', { tables });
    this.httpApi = new ForgeflowHttpApi(this, 'HttpApi', {
      handler: this.apiFunction.function,
      userPool: auth.userPool,
      apiClient: auth.apiClient,
    });

    new CfnOutput(this, 'ApiUrl', { value: this.httpApi.stage.url, description: 'Base URL of the job API' });
  }
}
