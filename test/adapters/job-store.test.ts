import { GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoJobStore } from '../../functions/adapters/dynamodb/job-store.ts';
import { ConcurrentModificationError, JobAlreadyExistsError } from '../../functions/core/errors.ts';
import { jobEvent } from '../../functions/core/events.ts';
import { JobSpecSchema, type JobRecord } from '../../functions/core/job.ts';
import type { JobChange } from '../../functions/core/ports.ts';
import { createTestTables } from '../support/dynamodb.ts';

function newJob(jobId: string): JobRecord {
  const now = new Date().toISOString();
  return {
    ...JobSpecSchema.parse({ command: 'true', priority: 'low' }),
    jobId, tenantId: 'acme', status: 'QUEUED', version: 1, run: 1, attempts: 0, cancelRequested: false,
    createdAt: now, updatedAt: now, createdBy: 'alice', requestHash: 'h1',
  };
}

function creation(job: JobRecord): JobChange {
  const event = jobEvent('JobQueued', job, null, { reason: 'submitted', timeoutSeconds: 1, maxAttempts: 1 }, { time: job.createdAt, correlationId: 'c' });
  return { job, event, statusMove: { from: null, to: 'QUEUED', priority: job.priority } };
}

describe('Class: DynamoJobStore', () => {
  let tables: Awaited<ReturnType<typeof createTestTables>>;
  let store: DynamoJobStore;
  const outboxIds = async () =>
    ((await tables.documentClient.send(new ScanCommand({ TableName: tables.tableNames.outbox, ConsistentRead: true }))).Items ?? []).map((i) => i.eventId);

  beforeAll(async () => {
    tables = await createTestTables();
    store = new DynamoJobStore(tables.documentClient, tables.tableNames);
  });

  it('writes job, outbox event (with TTL) and counters together', async () => {
    const change = creation(newJob('job_a'));
    await store.commit(change);
    expect(await store.get('job_a')).toEqual(change.job);
    const { Item } = await tables.documentClient.send(new GetCommand({ TableName: tables.tableNames.outbox, Key: { subject: change.event.subject, eventId: change.event.id } }));
    expect(JSON.parse(Item!.envelope)).toEqual(change.event);
    expect(Item!.expiresAt).toBeGreaterThan(Date.now() / 1000);
    expect(await store.counters({ tenantId: 'acme' })).toMatchObject({ 'QUEUED#low': 1 });
    expect(await store.counters('global')).toMatchObject({ 'QUEUED#low': 1 });
  });

  it("writes only the tenant's counters, and sums every tenant's for the platform's stats", async () => {
    const before = await store.counters('global');
    const [a, b, c] = [newJob('job_sum_a'), { ...newJob('job_sum_b'), tenantId: 'globex' }, { ...newJob('job_sum_c'), tenantId: 'initech', priority: 'high' as const }];
    for (const job of [a, b, c]) await store.commit(creation(job));

    expect(await store.counters({ tenantId: 'globex' })).toEqual({ 'QUEUED#low': 1 });
    expect(await store.counters({ tenantId: 'initech' })).toEqual({ 'QUEUED#high': 1 });
    const after = await store.counters('global');
    expect(after['QUEUED#low']! - (before['QUEUED#low'] ?? 0)).toBe(2);
    expect(after['QUEUED#high']! - (before['QUEUED#high'] ?? 0)).toBe(1);
    // No platform-wide item: every counter item in the table is one tenant's shard, a slot, or a bucket.
    const { Items = [] } = await tables.documentClient.send(new ScanCommand({ TableName: tables.tableNames.counters }));
    expect(Items.filter((item) => String(item.scope).startsWith('global'))).toEqual([]);
  });

  it('leaves neither the job nor its event when the transaction fails', async () => {
    // Prepare: an outbox row already holds the event id, so the event's conditional put fails.
    const change = creation(newJob('job_b'));
    await tables.documentClient.send(new PutCommand({ TableName: tables.tableNames.outbox, Item: { subject: change.event.subject, eventId: change.event.id, marker: 'pre-existing' } }));
    const before = await store.counters({ tenantId: 'acme' });

    await expect(store.commit(change)).rejects.toThrow();

    expect(await store.get('job_b')).toBeUndefined();
    const { Item } = await tables.documentClient.send(new GetCommand({ TableName: tables.tableNames.outbox, Key: { subject: change.event.subject, eventId: change.event.id } }));
    expect(Item).toEqual({ subject: change.event.subject, eventId: change.event.id, marker: 'pre-existing' });
    expect(await store.counters({ tenantId: 'acme' })).toEqual(before);
  });

  it('leaves nothing behind when a table of the transaction is missing', async () => {
    const broken = new DynamoJobStore(tables.documentClient, { ...tables.tableNames, counters: 'no-such-table' });
    const change = creation(newJob('job_c'));
    await expect(broken.commit(change)).rejects.toThrow();
    expect(await store.get('job_c')).toBeUndefined();
    expect(await outboxIds()).not.toContain(change.event.id);
  });

  it('reports the stored job when a create loses to an existing one', async () => {
    const first = creation(newJob('job_d'));
    await store.commit(first);
    const error = await store.commit(creation({ ...newJob('job_d'), requestHash: 'h2' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobAlreadyExistsError);
    expect((error as JobAlreadyExistsError<JobRecord>).existing).toEqual(first.job);
  });

  it('refuses an update whose expected version is stale', async () => {
    const job = newJob('job_e');
    await store.commit(creation(job));
    const next = { ...job, status: 'CANCELLED' as const, version: 2 };
    const event = jobEvent('JobCancelled', next, 'QUEUED', { cancelledBy: 'a' }, { time: next.updatedAt, correlationId: 'c' });
    const stale: JobChange = { job: next, expected: { status: 'QUEUED', version: 7 }, event, statusMove: { from: 'QUEUED', to: 'CANCELLED', priority: 'low' } };
    await expect(store.commit(stale)).rejects.toBeInstanceOf(ConcurrentModificationError);
    expect((await store.get('job_e'))!.status).toBe('QUEUED');
    expect(await outboxIds()).not.toContain(event.id);
  });

  it('a repeated call of an applied change succeeds again without applying twice (ClientRequestToken)', async () => {
    const change = creation({ ...newJob('job_repeat'), tenantId: 'repeat' });
    await store.commit(change);
    // What an SDK retry after a lost answer does: the same call again. Without the token DynamoDB would evaluate the
    // conditions again and report our own write as a conflict (JobAlreadyExists: the submit would answer 200, a
    // cancel or retry 409).
    await expect(store.commit(change)).resolves.toBeUndefined();
    expect((await outboxIds()).filter((id) => id === change.event.id)).toHaveLength(1);
    expect(await store.counters({ tenantId: 'repeat' })).toEqual({ 'QUEUED#low': 1 });
  });
});
