import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ForgeflowAuth } from './auth.ts';
import { ForgeflowTables } from './tables.ts';

/**
 * Everything that holds data: the DynamoDB tables and the Cognito user pool. It changes rarely and every resource
 * in it is retained, so the stateless stack (functions, API) can be deployed, replaced or destroyed freely.
 */
export class ForgeflowStatefulStack extends Stack {
  readonly tables: ForgeflowTables;
  readonly auth: ForgeflowAuth;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, { description: 'Forgeflow state: DynamoDB tables and the Cognito user pool', ...props });
    this.tables = new ForgeflowTables(this, 'Tables');
    this.auth = new ForgeflowAuth(this, 'Auth');

    new CfnOutput(this, 'UserPoolId', { value: this.auth.userPool.userPoolId, description: 'Cognito user pool id' });
    new CfnOutput(this, 'UserPoolClientId', {
      value: this.auth.apiClient.userPoolClientId,
      description: 'Cognito app client id: the audience of the API JWT authorizer',
    });
  }
}
