import type { TestProject } from 'vitest/node';
import { LOCAL_CREDENTIALS, startDynamoDbLocal, type DynamoDbLocal } from '../../local/dynamodb-local.ts';

let instances: DynamoDbLocal[] = [];

/**
 * Two in-memory DynamoDB Locals per test run, started once:
 * - `dynamoDbEndpoint`, one database for any key: each test file creates its own uniquely named tables in it;
 * - `runtimeDynamoDbEndpoint`, one database per key, for the local runtimes the tests start in-process: each home has
 *   its own key, so runtimes with the declared table names keep apart. A runtime starting its own Java process cost
 *   about 3.5 s of CPU to be ready, and its first calls ran on a cold JIT (local/dynamodb-watchdog.mjs).
 */
export async function setup(project: TestProject) {
  instances = await Promise.all([startDynamoDbLocal(), startDynamoDbLocal({ credentials: LOCAL_CREDENTIALS })]);
  project.provide('dynamoDbEndpoint', instances[0]!.endpoint);
  project.provide('runtimeDynamoDbEndpoint', instances[1]!.endpoint);
}

export async function teardown() {
  await Promise.all(instances.map((instance) => instance.stop()));
}

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoDbEndpoint: string;
    runtimeDynamoDbEndpoint: string;
  }
}
