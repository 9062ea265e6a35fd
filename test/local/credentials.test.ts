import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../functions/adapters/dynamodb/client.ts';
import { JOBS_TABLE, localTableName } from '../../functions/declarations/tables.ts';
import { loadOrCreateLocalCredentials } from '../../local/credentials.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION, startDynamoDbLocal, type LocalCredentials } from '../../local/dynamodb-local.ts';
import { ensureTables } from '../../local/tables.ts';

describe("Local: a home's DynamoDB key", () => {
  const home = mkdtempSync(join(tmpdir(), 'ff-creds-'));
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  const withDynamo = async <T>(credentials: LocalCredentials | undefined, use: (client: ReturnType<typeof createDocumentClient>, endpoint: string) => Promise<T>): Promise<T> => {
    const dynamo = await startDynamoDbLocal({ dataDir: join(home, 'dynamodb'), ...(credentials ? { credentials } : {}) });
    // A copy: the SDK marks the credentials object it is given.
    const client = createDocumentClient({ endpoint: dynamo.endpoint, region: LOCAL_REGION, credentials: { ...(credentials ?? LOCAL_CREDENTIALS) } });
    try {
      return await use(client, dynamo.endpoint);
    } finally {
      client.destroy();
      await dynamo.stop();
    }
  };

  it('is random, alphanumeric, kept in a 0600 file, and the same on every start', () => {
    const other = mkdtempSync(join(tmpdir(), 'ff-creds-other-'));
    try {
      const first = loadOrCreateLocalCredentials(other);
      expect(first.accessKeyId).toMatch(/^FF[A-Z0-9]{30}$/);
      expect(first.secretAccessKey).toMatch(/^[A-Z0-9]{40}$/);
      expect(loadOrCreateLocalCredentials(other)).toEqual(first);
      expect(statSync(join(other, 'dynamodb-credentials.json')).mode & 0o777).toBe(0o600);
      expect(loadOrCreateLocalCredentials(mkdtempSync(join(tmpdir(), 'ff-creds-third-')))).not.toEqual(first);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('adopts the data of a home written before keys were per home', { timeout: 120_000 }, async () => {
    // The old layout: one shared database for any key.
    await withDynamo(undefined, async (client, endpoint) => {
      const raw = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: { ...LOCAL_CREDENTIALS } });
      await ensureTables(raw, localTableName);
      raw.destroy();
      await client.send(new PutCommand({ TableName: localTableName(JOBS_TABLE), Item: { jobId: 'job_old', command: 'echo kept' } }));
    });
    expect(existsSync(join(home, 'dynamodb', 'shared-local-instance.db'))).toBe(true);

    const credentials = loadOrCreateLocalCredentials(home);
    expect(existsSync(join(home, 'dynamodb', 'shared-local-instance.db'))).toBe(false);
    const item = await withDynamo(credentials, async (client) => (await client.send(new GetCommand({ TableName: localTableName(JOBS_TABLE), Key: { jobId: 'job_old' } }))).Item);
    expect(item).toMatchObject({ command: 'echo kept' });
    expect(JSON.parse(readFileSync(join(home, 'dynamodb-credentials.json'), 'utf8'))).toEqual({ accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey });
  });
});
