import { randomBytes } from 'node:crypto';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { JOBS_TABLE, type TableDefinition } from '../../functions/declarations/tables.ts';
import { ensureTables, toCreateTableInput } from '../../local/tables.ts';
import { localClientConfig } from '../support/dynamodb.ts';

describe('Function: ensureTables', () => {
  const client = new DynamoDBClient(localClientConfig());
  afterAll(() => client.destroy());

  it("brings a table an earlier release made up to the declaration: the jobs table's stream and its latest index", async () => {
    // Prepare: the jobs table as a data folder from before its stream and its latest index.
    const prefix = `u${randomBytes(4).toString('hex')}`;
    const nameOf = (table: TableDefinition) => `${prefix}-${table.name}`;
    const { StreamSpecification: _stream, ...older } = toCreateTableInput({ ...JOBS_TABLE, indexes: JOBS_TABLE.indexes.slice(0, -1) }, nameOf(JOBS_TABLE));
    await client.send(new CreateTableCommand(older));

    // Act
    await ensureTables(client, nameOf);

    // Assess
    const { Table } = await client.send(new DescribeTableCommand({ TableName: nameOf(JOBS_TABLE) }));
    expect(Table?.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' });
    expect(Table?.LatestStreamArn).toBeDefined();
    expect((Table?.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName).sort()).toEqual(JOBS_TABLE.indexes.map((i) => i.indexName).sort());
  });
});
