import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../functions/adapters/dynamodb/client.ts';
import { asLazy } from '../../functions/adapters/lazy-client.ts';
import { lazySfn } from '../../functions/adapters/lazy-clients.ts';
import { withoutCallLogging } from '../../functions/adapters/sdk-call-logging.ts';

const config = { region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } };
const hasLogger = (client: { middlewareStack: { identify(): string[] } }) => client.middlewareStack.identify().some((name) => name.startsWith('loggerMiddleware'));

describe('Clients without the SDK’s per-call logging', () => {
  it('finds the middleware by the name it removes in a plain client, so an SDK that renames it fails here', () => {
    const plain = new DynamoDBClient(config);
    expect(hasLogger(plain)).toBe(true);
    expect(hasLogger(withoutCallLogging(plain))).toBe(false);
  });

  it('leaves it out of the document client and of every client a LazyClient makes', async () => {
    expect(hasLogger(createDocumentClient(config))).toBe(false);
    expect(await lazySfn(config).use(async (client) => hasLogger(client))).toBe(false);
    expect(await asLazy(new SFNClient(config), () => import('@aws-sdk/client-sfn')).use(async (client) => hasLogger(client))).toBe(false);
  });

  it('passes a stand-in without a middleware stack through unchanged', async () => {
    const standIn = { send: async () => ({}) };
    expect(withoutCallLogging(standIn)).toBe(standIn);
    expect(await asLazy(standIn, async () => ({})).use(async (client) => client)).toBe(standIn);
  });
});
