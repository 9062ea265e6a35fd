import type { TestProject } from 'vitest/node';
import { LOCAL_CREDENTIALS, startDynamoDbLocal, type DynamoDbLocal } from '../../local/dynamodb-local.ts';

let ddb: DynamoDbLocal | undefined;

/**
 * One in-memory DynamoDB Local per test run, with one database per access key. Test files that make their own tables
 * (uniquely named) all use LOCAL_CREDENTIALS, so they share one database; a local runtime started with
 * `sharedDynamoDb` keeps its tables under its home's own key, apart from everyone else's.
 */
export async function setup(project: TestProject) {
  ddb = await startDynamoDbLocal({ credentials: LOCAL_CREDENTIALS });
  project.provide('dynamoDbEndpoint', ddb.endpoint);
}

export async function teardown() {
  await ddb?.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoDbEndpoint: string;
  }
}
