import { GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../functions/adapters/dynamodb/client.ts';
import { DynamoJobStore } from '../../functions/adapters/dynamodb/job-store.ts';
import { JOB_EVENT_ATTRIBUTE, outboxRow } from '../../functions/adapters/dynamodb/outbox-item.ts';
import { ConcurrentModificationError } from '../../functions/core/errors.ts';
import { jobEvent } from '../../functions/core/events.ts';
import { JobSpecSchema, type JobRecord } from '../../functions/core/job.ts';
import type { JobChange } from '../../functions/core/ports.ts';
import { createTestTables, localClientConfig } from '../support/dynamodb.ts';
import { moveJob } from '../support/job-fixtures.ts';
import { forwardCarriedEvents, readWholeStream } from '../support/job-stream.ts';

function queuedJob(jobId: string): JobChange {
  const now = new Date().toISOString();
  const job: JobRecord = {
    ...JobSpecSchema.parse({ command: 'true', priority: 'low' }),
    jobId, tenantId: 'acme', status: 'QUEUED', version: 1, run: 1, attempts: 0, cancelRequested: false,
    createdAt: now, updatedAt: now, createdBy: 'alice', requestHash: 'h1',
  };
  const event = jobEvent('JobQueued', job, null, { reason: 'submitted', timeoutSeconds: 1, maxAttempts: 1 }, { time: now, correlationId: 'c' });
  return { job, event, statusMove: { from: null, to: 'QUEUED', priority: 'low' } };
}

/** DISPATCHED → RUNNING: no counter moves (a held job is counted once) and no slot changes hands. */
function start(job: JobRecord, workerId = 'w1'): JobChange {
  const time = new Date().toISOString();
  const next: JobRecord = { ...job, status: 'RUNNING', version: job.version + 1, workerId, updatedAt: time };
  const event = jobEvent('JobRunning', next, job.status, { workerId }, { time, correlationId: 'c' });
  return { job: next, expected: { status: job.status, version: job.version }, event, statusMove: { from: job.status, to: 'RUNNING', priority: job.priority } };
}

describe('A change of the job alone (decision 0022)', () => {
  let tables: Awaited<ReturnType<typeof createTestTables>>;
  let store: DynamoJobStore;
  /** The commands a store sends, by name, and their inputs. */
  const sent: string[] = [];
  const inputs: unknown[] = [];
  const outboxRowOf = async (change: JobChange) =>
    (await tables.documentClient.send(new GetCommand({ TableName: tables.tableNames.outbox, Key: { subject: change.event.subject, eventId: change.event.id }, ConsistentRead: true }))).Item;
  const rawJob = async (jobId: string) => (await tables.documentClient.send(new GetCommand({ TableName: tables.tableNames.jobs, Key: { jobId }, ConsistentRead: true }))).Item!;

  beforeAll(async () => {
    tables = await createTestTables();
    const client = createDocumentClient(localClientConfig());
    const send = client.send.bind(client);
    client.send = ((command: { constructor: { name: string }; input: unknown }) => (sent.push(command.constructor.name), inputs.push(command.input), send(command as never))) as typeof client.send;
    store = new DynamoJobStore(client, tables.tableNames);
  });

  async function dispatched(jobId: string): Promise<JobRecord> {
    await store.commit(queuedJob(jobId));
    return moveJob(store, jobId, ['DISPATCHED']);
  }

  it('is one conditional write of the job item, which carries the event until the relay appends it to the outbox', async () => {
    const job = await dispatched('job_alone');
    const counters = await store.counters({ tenantId: 'acme' });
    const change = start(job);
    sent.length = 0;

    await store.commit(change);

    expect(sent).toEqual(['PutCommand']);
    expect(JSON.parse(String((await rawJob('job_alone'))[JOB_EVENT_ATTRIBUTE]))).toEqual(change.event);
    // Only the store sees the attribute: the job it reads back is the record.
    expect(await store.get('job_alone')).toEqual(change.job);
    expect(await outboxRowOf(change)).toBeUndefined();
    expect(await store.counters({ tenantId: 'acme' })).toEqual(counters);

    await forwardCarriedEvents(tables);
    expect(await outboxRowOf(change)).toEqual(outboxRow(change.event, true));
  });

  it('treats a repeat of a write DynamoDB applied as done, and refuses another change of the same version with the stored job', async () => {
    const job = await dispatched('job_repeat');
    const change = start(job);
    await store.commit(change);
    await expect(store.commit(change)).resolves.toBeUndefined();

    const rival = start(job, 'w2');
    const refused = await store.commit(rival).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ConcurrentModificationError);
    expect((refused as ConcurrentModificationError).current).toMatchObject({ status: 'RUNNING', workerId: 'w1' });
  });

  it('brings each event to the outbox once: a later transaction drops it, and forwarding again adds no outbox record', async () => {
    const job = await dispatched('job_once');
    const change = start(job);
    await store.commit(change);
    await forwardCarriedEvents(tables);
    await moveJob(store, 'job_once', ['SUCCEEDED']);
    expect(await rawJob('job_once')).not.toHaveProperty(JOB_EVENT_ATTRIBUTE);

    await forwardCarriedEvents(tables);
    const inserts = (await readWholeStream(tables.tableNames.outbox, tables.documentClient)).filter(
      (record) => record.eventName === 'INSERT' && record.dynamodb?.Keys?.eventId?.S === change.event.id,
    );
    expect(inserts).toHaveLength(1);
    const { Items = [] } = await tables.documentClient.send(new ScanCommand({ TableName: tables.tableNames.outbox, ConsistentRead: true }));
    expect(Items.filter((item) => item.subject === 'job_once').map((item) => item.type)).toEqual(['JobQueued', 'JobDispatched', 'JobRunning', 'JobSucceeded']);
  });

  it('keeps the transaction for a change that moves a counter or a slot', async () => {
    const job = await dispatched('job_tx');
    const running = start(job);
    await store.commit(running);
    sent.length = 0;
    await moveJob(store, 'job_tx', ['SUCCEEDED']);
    expect(sent).toEqual(['GetCommand', 'TransactWriteCommand']);
  });

  it('moves the counters of a change that takes or gives back a slot on the slot item: three items, not four', async () => {
    await store.commit(queuedJob('job_slot'));
    const queued = (await store.get('job_slot'))!;
    const before = { tenant: await store.counters({ tenantId: 'acme' }), global: await store.counters('global') };
    const time = new Date().toISOString();
    const claimed: JobRecord = { ...queued, status: 'DISPATCHED', version: queued.version + 1, updatedAt: time };
    const event = jobEvent('JobDispatched', claimed, 'QUEUED', {}, { time, correlationId: 'c' });
    inputs.length = 0;

    await store.commit({ job: claimed, expected: { status: 'QUEUED', version: queued.version }, event, statusMove: { from: 'QUEUED', to: 'DISPATCHED', priority: 'low' }, slot: { tenantId: 'acme', delta: 1, limit: 5 } });

    const [transaction] = inputs as { TransactItems: { Update?: { Key: unknown; ExpressionAttributeNames: Record<string, string> } }[] }[];
    expect(transaction!.TransactItems).toHaveLength(3);
    const slot = transaction!.TransactItems[2]!.Update!;
    expect(slot.Key).toEqual({ scope: 'slots#acme', shard: 0 });
    expect(Object.values(slot.ExpressionAttributeNames).sort()).toEqual(['HELD#low', 'QUEUED#low', 'inUse']);
    const moved = (counters: Record<string, number>, was: Record<string, number>, name: string) => (counters[name] ?? 0) - (was[name] ?? 0);
    const after = { tenant: await store.counters({ tenantId: 'acme' }), global: await store.counters('global') };
    for (const scope of ['tenant', 'global'] as const) {
      expect([moved(after[scope], before[scope], 'QUEUED#low'), moved(after[scope], before[scope], 'HELD#low')]).toEqual([-1, 1]);
      expect(after[scope]).not.toHaveProperty('inUse');
    }
    expect(await store.slotsInUse('acme')).toBeGreaterThan(0);
  });
});
