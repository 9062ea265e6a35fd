import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, ForgeflowApiError, ForgeflowClient, type LogChunk } from '../../client/index.ts';
import { JOBS_TABLE, localTableName } from '../../functions/declarations/tables.ts';
import { LOCAL_CREDENTIALS, type LocalCredentials } from '../../local/dynamodb-local.ts';
import { startLocalRuntime, type LocalRuntime } from '../../local/runtime.ts';
import { listTables, sharedDynamoDb } from '../support/dynamodb.ts';

/** The client against the local runtime over real HTTP: the same handler, gateway and JWT checks as the deployed API. */
describe('Client: against the local runtime', { timeout: 120_000 }, () => {
  let home: string;
  let runtime: LocalRuntime;
  let user: ForgeflowClient;
  let other: ForgeflowClient;
  let admin: ForgeflowClient;

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'ff-client-'));
    runtime = await startLocalRuntime({ home, port: 0, sharedDynamoDb: sharedDynamoDb(), log: () => {}, workers: 1 });
    const as = (token: string) => new ForgeflowClient({ baseUrl: runtime.url, token });
    [user, other, admin] = [as(runtime.tokens.user), as(runtime.tokens.other), as(runtime.tokens.admin)];
  });

  afterAll(async () => {
    await runtime?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it("keeps its tables in the run's shared DynamoDB Local under its own key, out of the other tests' sight", async () => {
    const tables = (credentials: LocalCredentials) => listTables(runtime.dynamoDbEndpoint, credentials);
    expect(runtime.dynamoDbEndpoint).toBe(sharedDynamoDb().endpoint);
    expect(await tables(runtime.credentials)).toContain(localTableName(JOBS_TABLE));
    // The key every other test file's tables are under.
    expect(await tables(LOCAL_CREDENTIALS)).not.toContain(localTableName(JOBS_TABLE));
  });

  it('runs every job of a batch to SUCCEEDED, and a batch sent again is replayed, not run twice', async () => {
    const jobs = [{ idempotencyKey: 'client-batch-a', job: { command: 'true' } }, { idempotencyKey: 'client-batch-b', job: { command: ['sh', '-c', 'echo b'] } }];
    const first = await user.submitBatch(jobs);
    const again = await user.submitBatch(jobs);
    const ids = first.map((r) => (r.outcome === 'failed' ? '' : r.job.jobId));
    expect(again.map((r) => [r.outcome, r.outcome === 'failed' ? '' : r.job.jobId])).toEqual(ids.map((id) => ['replayed', id]));
    const done = await Promise.all(ids.map((id) => user.waitFor(id, { pollIntervalMs: 50 })));
    expect(done.map((job) => [job.status, job.run, job.attempts])).toEqual([['SUCCEEDED', 1, 1], ['SUCCEEDED', 1, 1]]);
    expect(done[1]!.result?.outputTail).toBe('b\n');
  });

  it('walks every page: 25 jobs, 10 a page, are 3 pages and all 25 jobs once', async () => {
    const results = await user.submitBatch(Array.from({ length: 25 }, () => ({ job: { command: 'true', priority: 'low' } })));
    expect(results.map((r) => r.outcome)).toEqual(Array.from({ length: 25 }, () => 'created'));
    const submitted = new Set(results.map((r) => (r.outcome === 'failed' ? '' : r.job.jobId)));

    const first = await user.list({ priority: 'low', limit: 10 });
    const second = await user.list({ priority: 'low', limit: 10, cursor: first.nextCursor! });
    const third = await user.list({ priority: 'low', limit: 10, cursor: second.nextCursor! });
    const all = await collect(user.jobs({ priority: 'low', limit: 10 }));

    expect([first.items.length, second.items.length, third.items.length]).toEqual([10, 10, 5]);
    expect(third.nextCursor).toBeNull();
    expect(all).toHaveLength(25);
    expect(new Set(all.map((job) => job.jobId))).toEqual(submitted);
  });

  it('answers errors typed by code: 404 JOB_NOT_FOUND, and 400 VALIDATION_ERROR with the failing fields', async () => {
    const missing = await user.get(`job_${'0'.repeat(32)}`).catch((e: unknown) => e);
    const invalid = await user.submit({ command: '', timeoutSeconds: 0 }).catch((e: unknown) => e);

    expect(ForgeflowApiError.is(missing, 'JOB_NOT_FOUND')).toBe(true);
    expect(missing).toMatchObject({ status: 404, details: { jobId: `job_${'0'.repeat(32)}` } });
    expect(invalid).toBeInstanceOf(ForgeflowApiError);
    expect(invalid).toMatchObject({ status: 400, code: 'VALIDATION_ERROR' });
    const paths = ((invalid as ForgeflowApiError).details.issues as Array<{ path: string }>).map((issue) => issue.path);
    expect(paths).toEqual(expect.arrayContaining(['command', 'timeoutSeconds']));
  });

  it("submits once per key, and keeps a tenant's job from another tenant", async () => {
    const first = await user.submit({ command: 'true' }, { idempotencyKey: 'client-test-once' });
    const again = await user.submit({ command: 'true' }, { idempotencyKey: 'client-test-once' });

    expect(again.jobId).toBe(first.jobId);
    await expect(other.get(first.jobId)).rejects.toMatchObject({ status: 404, code: 'JOB_NOT_FOUND' });
  });

  it("streams a job's output as it runs, until the job ends, and waits for its end", async () => {
    const job = await user.submit({ command: ['sh', '-c', 'echo one; sleep 1; echo two; exit 4'], maxAttempts: 1 });

    const follow = user.followLogs(job.jobId);
    const chunks: LogChunk[] = [];
    let next = await follow.next();
    while (!next.done) {
      chunks.push(next.value);
      next = await follow.next();
    }
    const ended = await user.waitFor(job.jobId);

    expect(chunks.map((c) => c.text).join('')).toBe('one\ntwo\n');
    expect(chunks.map((c) => c.seq)).toEqual(chunks.map((_, i) => i));
    // A non-zero exit may be retried; with one attempt allowed, the job is dead-lettered at once.
    expect(next.value).toEqual({ status: 'DEAD_LETTERED', exitCode: 4 });
    expect(ended).toMatchObject({ status: 'DEAD_LETTERED', result: { exitCode: 4 }, failure: { reason: 'NON_ZERO_EXIT_CODE' } });
    const history = await collect(user.events(job.jobId, { limit: 2 }));
    expect(history[0]!.type).toBe('JobQueued');
    expect(history.length).toBeGreaterThanOrEqual(3);
  });

  it('reads stats and workers, refusing them to whom they are not for', async () => {
    const stats = await user.stats();
    const workers = await admin.workers.list();

    expect(stats.scope).toBe('tenant');
    expect(Object.keys(stats.queued)).toEqual(['critical', 'high', 'medium', 'low']);
    await expect(user.stats('global')).rejects.toMatchObject({ status: 403, code: 'FORBIDDEN' });
    expect(workers.items.length).toBeGreaterThanOrEqual(1);
    const worker = await admin.workers.get(workers.items[0]!.workerId);
    expect(worker.workerId).toBe(workers.items[0]!.workerId);
    await expect(user.workers.list()).rejects.toMatchObject({ status: 403 });
  });
});
