import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceInUseException,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
  type GlobalSecondaryIndex,
  type Projection,
} from '@aws-sdk/client-dynamodb';
import { projectionOf, TABLES, type IndexDefinition, type KeyAttribute, type TableDefinition } from '../functions/declarations/tables.ts';

const keySchema = (pk: { name: string }, sk?: { name: string }) => [
  { AttributeName: pk.name, KeyType: 'HASH' as const },
  ...(sk ? [{ AttributeName: sk.name, KeyType: 'RANGE' as const }] : []),
];

function toProjection(index: IndexDefinition): Projection {
  const projection = projectionOf(index);
  return projection.type === 'INCLUDE' ? { ProjectionType: 'INCLUDE', NonKeyAttributes: [...projection.attributes] } : { ProjectionType: projection.type };
}

const toIndex = (index: IndexDefinition): GlobalSecondaryIndex => ({
  IndexName: index.indexName,
  KeySchema: keySchema(index.partitionKey, index.sortKey),
  Projection: toProjection(index),
});

const attributeDefinitions = (keys: readonly (KeyAttribute | undefined)[]) =>
  [...new Map(keys.filter((k) => k !== undefined).map((k) => [k.name, k.type]))].map(([AttributeName, AttributeType]) => ({ AttributeName, AttributeType }));

/** Turns a declared table into the CreateTable call the local runtime and the tests make. */
export function toCreateTableInput(table: TableDefinition, tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: attributeDefinitions([table.partitionKey, table.sortKey, ...table.indexes.flatMap((i) => [i.partitionKey, i.sortKey])]),
    KeySchema: keySchema(table.partitionKey, table.sortKey),
    GlobalSecondaryIndexes: table.indexes.length ? table.indexes.map(toIndex) : undefined,
    StreamSpecification: table.stream ? { StreamEnabled: true, StreamViewType: table.stream } : undefined,
  };
}

/**
 * Creates every declared table that does not exist yet, and adds the indexes and the stream a newer release declares
 * to a table an earlier one created (a developer's FORGEFLOW_HOME outlives upgrades). Safe to call on every start.
 */
export async function ensureTables(client: DynamoDBClient, nameOf: (table: TableDefinition) => string): Promise<void> {
  for (const table of TABLES) {
    const tableName = nameOf(table);
    try {
      await client.send(new CreateTableCommand(toCreateTableInput(table, tableName)));
      if (table.ttlAttribute) {
        await client.send(
          new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: { Enabled: true, AttributeName: table.ttlAttribute } }),
        );
      }
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
      await upgradeTable(client, table, tableName);
    }
    await client.send(new DescribeTableCommand({ TableName: tableName }));
  }
}

async function upgradeTable(client: DynamoDBClient, table: TableDefinition, tableName: string): Promise<void> {
  const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
  if (table.stream && !Table?.StreamSpecification?.StreamEnabled) {
    await client.send(new UpdateTableCommand({ TableName: tableName, StreamSpecification: { StreamEnabled: true, StreamViewType: table.stream } }));
  }
  const existing = new Set((Table?.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName));
  // DynamoDB creates one index per UpdateTable call, and refuses the next (LimitExceededException) while one builds.
  const missing = table.indexes.filter((i) => !existing.has(i.indexName));
  for (const [n, index] of missing.entries()) {
    if (n > 0) await indexesActive(client, tableName);
    await client.send(
      new UpdateTableCommand({
        TableName: tableName,
        AttributeDefinitions: attributeDefinitions([index.partitionKey, index.sortKey]),
        GlobalSecondaryIndexUpdates: [{ Create: toIndex(index) }],
      }),
    );
  }
}

/** Waits (polling, as the SDK's table waiters do; none covers indexes) until no index of the table is still building. */
async function indexesActive(client: DynamoDBClient, tableName: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if ((Table?.GlobalSecondaryIndexes ?? []).every((i) => i.IndexStatus === 'ACTIVE')) return;
    if (Date.now() > deadline) throw new Error(`The indexes of ${tableName} are still not ACTIVE after ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
