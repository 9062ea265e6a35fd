import { randomBytes } from 'node:crypto';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { inject } from 'vitest';
import { createDocumentClient } from '../../functions/adapters/dynamodb/client.ts';
import type { TableNames } from '../../functions/adapters/dynamodb/job-store.ts';
import { COUNTERS_TABLE, INBOX_TABLE, JOBS_TABLE, OUTBOX_TABLE, TABLES, TENANTS_TABLE, WEBHOOK_DELIVERIES_TABLE, WORKERS_TABLE, type TableDefinition, WAITING_JOBS_TABLE } from '../../functions/declarations/tables.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION, type LocalCredentials } from '../../local/dynamodb-local.ts';
import { ensureTables } from '../../local/tables.ts';

export function localClientConfig() {
  return { endpoint: inject('dynamoDbEndpoint'), region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
}

/** Fresh tables with a random prefix, so test files share one DynamoDB Local without sharing data. */
export async function createTestTables() {
  const prefix = `t${randomBytes(4).toString('hex')}`;
  const nameOf = (table: TableDefinition) => `${prefix}-${table.name}`;
  const client = new DynamoDBClient(localClientConfig());
  await ensureTables(client, nameOf);
  const tableNames = {
    jobs: nameOf(JOBS_TABLE),
    outbox: nameOf(OUTBOX_TABLE),
    counters: nameOf(COUNTERS_TABLE),
    inbox: nameOf(INBOX_TABLE),
    webhookDeliveries: nameOf(WEBHOOK_DELIVERIES_TABLE),
    tenants: nameOf(TENANTS_TABLE),
    workers: nameOf(WORKERS_TABLE),
    waitingJobs: nameOf(WAITING_JOBS_TABLE),
  } satisfies TableNames & Record<string, string>;
  const env = Object.fromEntries(TABLES.map((table) => [table.envVar, nameOf(table)]));
  return { client, documentClient: createDocumentClient(localClientConfig()), tableNames, env, prefix };
}

/** The run's DynamoDB Local for a local runtime: its tables under its home's own key, with no Java start of its own. */
export const sharedDynamoDb = () => ({ endpoint: inject('dynamoDbEndpoint') });

/** The tables a client holding `credentials` sees at `endpoint`: DynamoDB Local keeps one database per key. */
export async function listTables(endpoint: string, credentials: LocalCredentials): Promise<string[]> {
  const client = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials });
  try {
    return (await client.send(new ListTablesCommand({}))).TableNames ?? [];
  } finally {
    client.destroy();
  }
}
