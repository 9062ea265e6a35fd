import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { transactWrite, type TransactItems } from '../../functions/adapters/dynamodb/transact.ts';
import { createTestTables } from '../support/dynamodb.ts';

/**
 * DynamoDB Local refuses what DynamoDB refuses past its size and count limits, with the same ValidationException,
 * so the platform's transaction wrapper needs no checks of its own. These tests keep that true across upgrades of
 * DynamoDB Local: should one start failing, the limit must be enforced in functions/adapters/dynamodb/transact.ts.
 */
const ITEM_LIMIT_BYTES = 400 * 1024;

let documentClient: DynamoDBDocumentClient;
let table: string;

beforeAll(async () => {
  const tables = await createTestTables();
  documentClient = tables.documentClient;
  table = tables.tableNames.tenants;
});

/** An item of exactly `bytes` as DynamoDB sizes it: UTF-8 bytes of attribute names plus values. */
function item(id: string, bytes: number): Record<string, string> {
  const overhead = 'tenantId'.length + id.length + 'blob'.length;
  return { tenantId: id, blob: 'x'.repeat(bytes - overhead) };
}

const puts = (prefix: string, count: number, bytes = 50): TransactItems => Array.from({ length: count }, (_, i) => ({ Put: { TableName: table, Item: item(`${prefix}${i}`, bytes) } }));

const validation = (message: RegExp) => ({ name: 'ValidationException', message: expect.stringMatching(message), $metadata: { httpStatusCode: 400 } });

describe('DynamoDB Local enforces the limits the platform designs for', () => {
  it('TransactWriteItems: 100 items pass, 101 are refused', async () => {
    await expect(transactWrite(documentClient, puts('hundred', 100))).resolves.toBeUndefined();

    await expect(transactWrite(documentClient, puts('more', 101))).rejects.toMatchObject(validation(/Member must have length less than or equal to 100/));
  });

  it('TransactWriteItems: items adding up to 4 MB pass, more are refused', async () => {
    // Ten items of 400 KB: just under 4 MiB. Eleven: over it, though each item is within its own limit.
    await expect(transactWrite(documentClient, puts('four', 10, ITEM_LIMIT_BYTES))).resolves.toBeUndefined();

    await expect(transactWrite(documentClient, puts('over', 11, ITEM_LIMIT_BYTES))).rejects.toMatchObject(validation(/Transaction payload size cannot exceed 4MB/));
  });

  it('TransactWriteItems: two operations on one item are refused', async () => {
    const twice = [...puts('same', 1), ...puts('same', 1)];

    await expect(transactWrite(documentClient, twice)).rejects.toMatchObject(validation(/Transaction request cannot include multiple operations on one item/));
  });

  it('an item of 400 KB passes and one byte more is refused, in a transaction or alone', async () => {
    await expect(transactWrite(documentClient, [{ Put: { TableName: table, Item: item('max', ITEM_LIMIT_BYTES) } }])).resolves.toBeUndefined();
    await expect(documentClient.send(new PutCommand({ TableName: table, Item: item('maxput', ITEM_LIMIT_BYTES) }))).resolves.toBeDefined();

    const tooLarge = validation(/Item size has exceeded the maximum allowed size/);
    await expect(transactWrite(documentClient, [{ Put: { TableName: table, Item: item('big', ITEM_LIMIT_BYTES + 1) } }])).rejects.toMatchObject(tooLarge);
    await expect(documentClient.send(new PutCommand({ TableName: table, Item: item('bigput', ITEM_LIMIT_BYTES + 1) }))).rejects.toMatchObject(tooLarge);
  });
});
