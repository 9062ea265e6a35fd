import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { LOCAL_CREDENTIALS, type LocalCredentials } from '../../local/dynamodb-local.ts';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../../functions/adapters/dynamodb/client.ts';
import { rateLimitKey } from '../../functions/adapters/dynamodb/rate-limiter.ts';
import { tenantBucketKey } from '../../functions/api/tenant-rate-limit.ts';
import { COUNTERS_TABLE, localTableName } from '../../functions/declarations/tables.ts';
import { LOCAL_REGION } from '../../local/dynamodb-local.ts';
import { PortInUseError } from '../../local/http-gateway.ts';
import { invocationCounts } from '../../local/lambda.ts';
import { startLocalRuntime, type LocalRuntime } from '../../local/runtime.ts';
import { TERMINAL_STATUSES } from '../../functions/core/job-status.ts';
import { listTables } from '../support/dynamodb.ts';
import { waitFor } from '../support/wait.ts';

/** End to end over real HTTP: DynamoDB Local on disk, the api Lambda handler, the gateway and its JWT authorizer. */
describe('Local: runtime', () => {
  let home: string;
  let runtime: LocalRuntime;
  const logged: string[] = [];
  const log = (message: string) => logged.push(message);

  const call = (path: string, token?: string, init: RequestInit = {}) =>
    fetch(`${runtime.url}${path}`, { ...init, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...init.headers } });

  const submit = (token: string, key: string) =>
    call('/v1/jobs', token, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify({ command: ['echo', 'hello'] }),
    });

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'forgeflow-runtime-'));
    runtime = await startLocalRuntime({ home, port: 0, log });
  });

  afterAll(async () => {
    await runtime?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it('listens on loopback only: every port the runtime and DynamoDB Local open is bound to 127.0.0.1', async () => {
    const ports = [runtime.port, runtime.backbone.endpoint.port, Number(new URL(runtime.backbone.sqs.endpoint).port), Number(new URL(runtime.dynamoDbEndpoint).port)];
    const listening = listeners();
    for (const port of ports) {
      expect(listening.get(port), `nothing listens on ${port}`).toBeDefined();
      expect([...listening.get(port)!]).toEqual(['127.0.0.1']);
    }
  });

  it("keeps its data behind this home's DynamoDB key: a client with any other key sees none of it", async () => {
    expect((await submit(runtime.tokens.user, 'behind-the-key')).status).toBe(201);
    const keyFile = join(home, 'dynamodb-credentials.json');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const tables = (credentials: LocalCredentials) => listTables(runtime.dynamoDbEndpoint, credentials);
    expect(await tables(runtime.credentials)).toContain('forgeflow-jobs');
    // What a web page on this machine could try (DynamoDB Local answers CORS for any origin).
    expect(await tables(LOCAL_CREDENTIALS)).toEqual([]);
    expect(await tables({ accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'x' })).toEqual([]);
  });

  it('answers /health without a token', async () => {
    const response = await call('/health');

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok', store: 'reachable' });
  });

  it('submits a job as the user and hides it from another tenant', async () => {
    // Act
    const created = await submit(runtime.tokens.user, 'runtime-test-1');
    const location = created.headers.get('location')!;
    const own = await call(location, runtime.tokens.user);
    const foreign = await call(location, runtime.tokens.other);

    // Assess
    expect(created.status).toBe(201);
    expect(location).toMatch(/^\/v1\/jobs\/job_[0-9a-f]{32}$/);
    expect(await created.json()).toMatchObject({ status: 'QUEUED', tenantId: 'default', createdBy: 'local-user', command: ['echo', 'hello'] });
    expect(own.status).toBe(200);
    expect(foreign.status).toBe(404);
    expect(await foreign.json()).toMatchObject({ code: 'JOB_NOT_FOUND' });
  });

  it('runs a command array with no shell to SUCCEEDED, and ends a missing program as COMMAND_NOT_FOUND (127)', { timeout: 60_000 }, async () => {
    type View = { status: string; result?: { exitCode: number | null; outputTail: string }; failure?: { reason: string; message: string } };
    const run = async (command: string[]): Promise<View> => {
      const created = await call('/v1/jobs', runtime.tokens.user, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ command, maxAttempts: 1 }) });
      expect(created.status).toBe(201);
      const { jobId } = (await created.json()) as { jobId: string };
      let view: View | undefined;
      await waitFor(`job ${jobId} to end`, async () => (TERMINAL_STATUSES as readonly string[]).includes((view = (await (await call(`/v1/jobs/${jobId}`, runtime.tokens.user)).json()) as View).status), 45_000, 100);
      return view!;
    };

    const [slept, printed, missing] = await Promise.all([run(['sleep', '0']), run(['printf', '%s|', 'a b', '$HOME']), run(['no-such-program-forgeflow'])]);

    expect(slept).toMatchObject({ status: 'SUCCEEDED', result: { exitCode: 0 } });
    expect(printed).toMatchObject({ status: 'SUCCEEDED', result: { exitCode: 0, outputTail: 'a b|$HOME|' } });
    expect(missing).toMatchObject({ status: 'FAILED', result: { exitCode: 127 }, failure: { reason: 'COMMAND_NOT_FOUND' } });
    expect(missing.failure!.message).toContain('"no-such-program-forgeflow"');
  });

  it('carries the admin group through the authorizer to the handler', async () => {
    // Global stats are for admins only: this passes only if "[admin]" reached auth.ts and was parsed there.
    const asAdmin = await call('/v1/queues/stats?scope=global', runtime.tokens.admin);
    const asUser = await call('/v1/queues/stats?scope=global', runtime.tokens.user);

    expect(asAdmin.status).toBe(200);
    expect(asUser.status).toBe(403);
  });

  it('runs each HTTP function behind its own routes: workers, the description and the rest each reach their handler', async () => {
    const counts = () => Object.fromEntries(['api', 'workersApi', 'openApi'].map((name) => [name, invocationCounts.get(`forgeflow-${name}-local`) ?? 0]));
    const before = counts();

    const workers = await call('/v1/workers', runtime.tokens.admin);
    const description = await call('/openapi.json');
    const jobs = await call('/v1/jobs', runtime.tokens.user);

    expect([workers.status, description.status, jobs.status]).toEqual([200, 200, 200]);
    expect(await workers.json()).toMatchObject({ items: expect.any(Array) });
    expect(await description.json()).toMatchObject({ openapi: '3.1.0' });
    const after = counts();
    expect({ api: after.api! - before.api!, workersApi: after.workersApi! - before.workersApi!, openApi: after.openApi! - before.openApi! }).toEqual({ api: 1, workersApi: 1, openApi: 1 });
  });

  it("limits each tenant's requests with the handler's own bucket in DynamoDB Local, Retry-After passed through", async () => {
    const client = createDocumentClient({ endpoint: runtime.dynamoDbEndpoint, region: LOCAL_REGION, credentials: runtime.credentials });
    // Tenant `other`'s bucket, which no later test uses: the api remembers a bucket it saw empty (it only ever fills
    // later), so deleting the item below does not refill it for this runtime.
    const bucket = { TableName: localTableName(COUNTERS_TABLE), Key: rateLimitKey(tenantBucketKey('other')) };
    // An empty bucket that is full again only in 30 s past its burst (50 tokens at 20/s): no token comes back while
    // the test runs.
    await client.send(new PutCommand({ TableName: bucket.TableName, Item: { ...bucket.Key, fullAt: Date.now() + 49 * 50 + 30_000 } }));
    try {
      const refused = await call('/v1/jobs', runtime.tokens.other);
      const otherTenant = await call('/v1/jobs', runtime.tokens.user);

      expect(refused.status).toBe(429);
      const retryAfter = Number(refused.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(30);
      expect(await refused.json()).toMatchObject({ code: 'RATE_LIMITED', details: { limit: { burst: 50, requestsPerSecond: 20 }, retryAfterSeconds: retryAfter } });
      expect(otherTenant.status).toBe(200);
    } finally {
      await client.send(new DeleteCommand(bucket));
      client.destroy();
    }
  });

  it('refuses requests without a valid token before the handler', async () => {
    const missing = await call('/v1/jobs');
    const forged = await call('/v1/jobs', `${runtime.tokens.user.slice(0, -4)}AAAA`);

    expect(missing.status).toBe(401);
    expect(forged.status).toBe(401);
    expect(await forged.json()).toMatchObject({ code: 'UNAUTHORIZED', details: {} });
  });

  it('keeps jobs and the signing key across a restart on the same home', { timeout: 120_000 }, async () => {
    // Prepare
    const created = await submit(runtime.tokens.user, 'runtime-test-restart');
    const job = (await created.json()) as { jobId: string; createdAt: string };
    const oldToken = runtime.tokens.user;

    // Act
    await runtime.stop();
    await runtime.stop();
    runtime = await startLocalRuntime({ home, port: 0, log });
    const read = await call(`/v1/jobs/${job.jobId}`, oldToken);
    const replay = await submit(oldToken, 'runtime-test-restart');

    // Assess
    expect(read.status).toBe(200);
    // The same stored job (jobs now run, so its status may have moved on since the submit).
    expect(await read.json()).toMatchObject({ jobId: job.jobId, createdAt: job.createdAt });
    expect(replay.status).toBe(200);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(logged).toEqual([]);
  });
});

describe('Local: runtime start-up failures', () => {
  let blocker: Server;

  afterAll(() => {
    blocker?.close();
  });

  it('refuses a taken port before starting DynamoDB Local', async () => {
    blocker = createServer();
    const port = await new Promise<number>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as { port: number }).port)));
    const home = mkdtempSync(join(tmpdir(), 'forgeflow-runtime-port-'));
    const started = Date.now();

    await expect(startLocalRuntime({ home, port, log: () => {} })).rejects.toBeInstanceOf(PortInUseError);
    // Java takes seconds to start; failing this fast shows it was never started.
    expect(Date.now() - started).toBeLessThan(1000);
    rmSync(home, { recursive: true, force: true });
  });
});

/** Listening TCP sockets of this machine by port, with the addresses they are bound to (Linux /proc/net). */
function listeners(): Map<number, Set<string>> {
  const byPort = new Map<number, Set<string>>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (state !== '0A' || !local) continue; // 0A: LISTEN
      const [hexAddress, hexPort] = local.split(':') as [string, string];
      const set = byPort.get(parseInt(hexPort, 16)) ?? new Set<string>();
      set.add(addressOf(hexAddress));
      byPort.set(parseInt(hexPort, 16), set);
    }
  }
  return byPort;
}

/** /proc/net addresses are little-endian per 32-bit word; an IPv4-mapped IPv6 address counts as its IPv4 one. */
function addressOf(hex: string): string {
  const words = hex.match(/.{8}/g)!.map((word) => word.match(/../g)!.reverse().join(''));
  const ipv4 = (word: string) => word.match(/../g)!.map((byte) => parseInt(byte, 16)).join('.');
  if (words.length === 1) return ipv4(words[0]!);
  if (words[0] === '00000000' && words[1] === '00000000' && words[2] === '0000FFFF') return ipv4(words[3]!);
  return words.every((word) => word === '00000000') ? '::' : words.join(':');
}
