import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../../local/faults/fault-proxy.ts';
import { createTestTables, localClientConfig } from '../support/dynamodb.ts';

/** The fault proxy in front of DynamoDB Local, reached through the real SDK client as the handlers reach it. */
describe('fault proxy', () => {
  let tables: Awaited<ReturnType<typeof createTestTables>>;
  let proxies: FaultProxy[] = [];

  beforeAll(async () => {
    tables = await createTestTables();
  });

  afterAll(async () => {
    await Promise.all(proxies.map((p) => p.close()));
    proxies = [];
  });

  const clientThrough = async (rate: number, maxAttempts: number) => {
    const proxy = await startFaultProxy(localClientConfig().endpoint, { rate, seed: 7 });
    proxies.push(proxy);
    return { proxy, client: new DynamoDBClient({ ...localClientConfig(), endpoint: proxy.endpoint, maxAttempts }) };
  };

  it('fails every call at rate 1 with the errors AWS gives, and a lost answer is a write that happened', async () => {
    const { proxy, client } = await clientThrough(1, 1);
    const names = new Set<string>();
    for (let i = 0; i < 30; i++) {
      const error = await client.send(new PutItemCommand({ TableName: tables.tableNames.jobs, Item: { jobId: { S: `fault-${i}` } } })).catch((e: Error) => e);
      expect(error).toBeInstanceOf(Error);
      names.add((error as Error).name);
    }
    expect([...names].sort()).toEqual(['InternalServerError', 'ThrottlingException']);
    expect(proxy.counts.calls).toBe(30);
    expect(proxy.counts.throttled + proxy.counts.unavailable + proxy.counts.lostAnswer).toBe(30);
    expect(proxy.counts.lostAnswer).toBeGreaterThan(0);

    // The puts whose answers were lost were applied; the refused ones were not.
    const direct = new DynamoDBClient(localClientConfig());
    let applied = 0;
    for (let i = 0; i < 30; i++) {
      const { Item } = await direct.send(new GetItemCommand({ TableName: tables.tableNames.jobs, Key: { jobId: { S: `fault-${i}` } }, ConsistentRead: true }));
      if (Item) applied++;
    }
    expect(applied).toBe(proxy.counts.lostAnswer);
    client.destroy();
    direct.destroy();
  });

  it('passes calls through at rate 0, and the SDK retries its way past a moderate rate', async () => {
    const clean = await clientThrough(0, 1);
    await clean.client.send(new PutItemCommand({ TableName: tables.tableNames.jobs, Item: { jobId: { S: 'clean' } } }));
    expect(clean.proxy.counts).toMatchObject({ calls: 1, throttled: 0, unavailable: 0, lostAnswer: 0 });

    const faulty = await clientThrough(0.3, 10);
    for (let i = 0; i < 20; i++) await faulty.client.send(new PutItemCommand({ TableName: tables.tableNames.jobs, Item: { jobId: { S: `retried-${i}` } } }));
    expect(faulty.proxy.counts.calls).toBeGreaterThan(20);
    clean.client.destroy();
    faulty.client.destroy();
  });

  it('refuses a rate outside 0..1', async () => {
    await expect(startFaultProxy(localClientConfig().endpoint, { rate: 1.5 })).rejects.toThrow(RangeError);
  });
});
