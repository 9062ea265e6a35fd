import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTableCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fileCheckpointStore, memoryCheckpointStore, type CheckpointStore, type ShardCheckpoint } from '../../local/stream-checkpoints.ts';
import { startStreamPoller, type FailureInfo, type StreamPoller, type StreamPollerOptions } from '../../local/stream-poller.ts';
import { createTestTables, localClientConfig } from '../support/dynamodb.ts';

const idOf = (record: DynamoDBRecord) => record.dynamodb?.NewImage?.eventId?.S ?? '?';
const ids = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(2, '0')}`);

/** Collects what the poller hands over and lets a test await a condition on it, with a deadline instead of sleeps. */
function observer() {
  const invocations: string[][] = [];
  const succeeded: string[] = [];
  const failed: Array<{ ids: string[]; info: FailureInfo }> = [];
  const waiters = new Set<() => void>();
  const changed = () => waiters.forEach((check) => check());
  return {
    invocations, succeeded, failed,
    /** Wraps a handler: records every invocation, and the records of every batch it acknowledged in full. */
    handler(inner: (event: DynamoDBStreamEvent) => DynamoDBBatchResponse | void = () => undefined) {
      return async (event: DynamoDBStreamEvent) => {
        invocations.push(event.Records.map(idOf));
        try {
          const response = inner(event);
          if (!response?.batchItemFailures.length) succeeded.push(...event.Records.map(idOf));
          return response;
        } finally {
          changed();
        }
      };
    },
    onFailure: async (records: DynamoDBRecord[], info: FailureInfo) => {
      failed.push({ ids: records.map(idOf), info });
      changed();
    },
    until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => (waiters.delete(check), reject(new Error(`timed out waiting for ${what}`))), timeoutMs);
        const check = () => condition() && (waiters.delete(check), clearTimeout(timer), resolve());
        waiters.add(check);
        check();
      });
    },
  };
}

describe('Function: startStreamPoller', () => {
  let streamsClient: DynamoDBStreamsClient;
  let dir: string;
  let pollers: StreamPoller[];
  let errors: unknown[];

  beforeAll(() => {
    streamsClient = new DynamoDBStreamsClient(localClientConfig());
  });
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stream-poller-'));
    pollers = [];
    errors = [];
  });
  afterEach(async () => {
    await Promise.all(pollers.map((p) => p.stop()));
    await rm(dir, { recursive: true, force: true });
  });

  /** A fresh outbox table; its stream ARN, and a writer of outbox items. */
  async function outbox() {
    const { client, tableNames } = await createTestTables();
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableNames.outbox }));
    const streamArn = Table?.LatestStreamArn;
    if (!streamArn) throw new Error('the outbox table has no stream');
    const write = async (eventIds: string[]) => {
      for (const eventId of eventIds) {
        const Item = { subject: { S: 'job_stream_poller' }, eventId: { S: eventId }, type: { S: 'JobQueued' }, attempt: { N: '1' }, body: { B: Buffer.from(eventId) } };
        await client.send(new PutItemCommand({ TableName: tableNames.outbox, Item }));
      }
    };
    return { streamArn, write };
  }

  function start(options: Partial<StreamPollerOptions> & Pick<StreamPollerOptions, 'streamArn' | 'handler' | 'onFailure'>) {
    const poller = startStreamPoller({
      streamsClient, checkpointStore: fileCheckpointStore(join(dir, 'checkpoints.json')), onError: (e) => errors.push(e), ...options,
    });
    pollers.push(poller);
    return poller;
  }

  it('delivers inserted items in order as Lambda-shaped records', async () => {
    // Prepare: items written before the poller starts and while it runs.
    const { streamArn, write } = await outbox();
    const seen = observer();
    const records: DynamoDBRecord[] = [];
    await write(ids('e', 10));

    // Act
    start({ streamArn, handler: seen.handler((event) => void records.push(...event.Records)), onFailure: seen.onFailure, batchSize: 7 });
    await seen.until(() => seen.succeeded.length === 10, 'the first 10 items');
    await write(ids('f', 10));
    await seen.until(() => seen.succeeded.length === 20, 'all 20 items');

    // Assess
    expect(seen.succeeded).toEqual([...ids('e', 10), ...ids('f', 10)]);
    expect(Math.max(...seen.invocations.map((batch) => batch.length))).toBeLessThanOrEqual(7);
    expect(records[0]).toStrictEqual({
      eventID: expect.any(String), eventName: 'INSERT', eventVersion: '1.1', eventSource: 'aws:dynamodb', awsRegion: 'us-east-1',
      dynamodb: {
        ApproximateCreationDateTime: expect.any(Number),
        Keys: { subject: { S: 'job_stream_poller' }, eventId: { S: 'e00' } },
        NewImage: { subject: { S: 'job_stream_poller' }, eventId: { S: 'e00' }, type: { S: 'JobQueued' }, attempt: { N: '1' }, body: { B: Buffer.from('e00').toString('base64') } },
        SequenceNumber: expect.any(String), SizeBytes: expect.any(Number), StreamViewType: 'NEW_IMAGE',
      },
      eventSourceARN: streamArn,
    });
    // DynamoDB Local rounds creation times down to the minute; Lambda would show whole seconds.
    expect(Math.abs(records[0]!.dynamodb!.ApproximateCreationDateTime! - Date.now() / 1000)).toBeLessThan(120);
    const sequenceNumbers = records.map((r) => BigInt(r.dynamodb!.SequenceNumber!));
    expect(sequenceNumbers.every((n, i) => i === 0 || n > sequenceNumbers[i - 1]!)).toBe(true);
    expect(errors).toEqual([]);
  });

  it('resumes after a stop from the checkpoint file, delivering only later records', async () => {
    // Prepare: a first poller handles five items and stops.
    const { streamArn, write } = await outbox();
    const path = join(dir, 'resume.json');
    const before = observer();
    await write(ids('a', 5));
    const first = start({ streamArn, handler: before.handler(), onFailure: before.onFailure, checkpointStore: fileCheckpointStore(path) });
    await before.until(() => before.succeeded.length === 5, 'the first five');
    await first.stop();

    // Act: five more items arrive while no poller runs; a new poller reads the same file.
    await write(ids('b', 5));
    const after = observer();
    const second = start({ streamArn, handler: after.handler(), onFailure: after.onFailure, checkpointStore: fileCheckpointStore(path) });
    await after.until(() => after.succeeded.length === 5, 'the later five');
    await second.stop();

    // Assess
    expect(before.succeeded).toEqual(ids('a', 5));
    expect(after.invocations.flat()).toEqual(ids('b', 5));
    const file = JSON.parse(await readFile(path, 'utf8')) as { streams: Record<string, { shards: Record<string, ShardCheckpoint> }> };
    expect(Object.keys(file.streams)).toEqual([streamArn]);
    expect(errors).toEqual([]);
  });

  it('hands the handler only what the filter accepts, and checkpoints past what it drops, trailing records too', async () => {
    // Prepare: six items; the filter (Lambda's event filtering) takes the even ones.
    const { streamArn, write } = await outbox();
    const path = join(dir, 'filtered.json');
    const filtered = observer();
    await write(ids('a', 6));
    const even = (record: DynamoDBRecord) => Number(record.dynamodb?.Keys?.eventId?.S?.slice(1)) % 2 === 0;

    // Act
    const first = start({ streamArn, handler: filtered.handler(), onFailure: filtered.onFailure, filter: even, checkpointStore: fileCheckpointStore(path) });
    await filtered.until(() => filtered.succeeded.length === 3, 'the even three');
    await first.stop();
    await write(ids('b', 1));
    const after = observer();
    start({ streamArn, handler: after.handler(), onFailure: after.onFailure, checkpointStore: fileCheckpointStore(path) });
    await after.until(() => after.succeeded.length === 1, 'the item written later');

    // Assess: a05, dropped after the last item handled, is not read again.
    expect(filtered.invocations.flat()).toEqual(['a00', 'a02', 'a04']);
    expect(after.invocations.flat()).toEqual(['b00']);
    expect(errors).toEqual([]);
  });

  it('waits for the in-flight batch on stop and checkpoints it', async () => {
    // Prepare: the handler holds its first batch until the test lets it go.
    const { streamArn, write } = await outbox();
    const path = join(dir, 'in-flight.json');
    await write(ids('g', 3));
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    const seen = observer();
    const poller = start({ streamArn, onFailure: seen.onFailure, checkpointStore: fileCheckpointStore(path), handler: async (event) => {
      await seen.handler()(event);
      await held;
    } });
    await seen.until(() => seen.invocations.length === 1, 'the first invocation');

    // Act
    let stopped = false;
    const stopping = poller.stop().then(() => (stopped = true));
    await new Promise((resolve) => setImmediate(resolve));
    const stoppedBeforeRelease = stopped;
    release();
    await stopping;

    // Assess: stop waited for the handler, and a new poller finds nothing left to deliver but a new item.
    expect(stoppedBeforeRelease).toBe(false);
    await write(['h00']);
    const next = observer();
    start({ streamArn, handler: next.handler(), onFailure: next.onFailure, checkpointStore: fileCheckpointStore(path) });
    await next.until(() => next.succeeded.length === 1, 'the new item');
    expect(next.invocations.flat()).toEqual(['h00']);
  });

  it('delivers again, and loses nothing, what was handled but not checkpointed when the process died', async () => {
    // Prepare: the first checkpoint reaches the disk; after it the "process" is dead to the disk.
    const { streamArn, write } = await outbox();
    const path = join(dir, 'crash.json');
    const disk = fileCheckpointStore(path);
    let saves = 0;
    const dying: CheckpointStore = {
      load: (arn) => disk.load(arn),
      save: async (shardId, checkpoint, arn) => {
        if (++saves > 1) throw new Error('killed after publishing, before the checkpoint was written');
        await disk.save(shardId, checkpoint, arn);
      },
    };
    const written = ids('c', 10);
    await write(written);
    const before = observer();
    const first = start({ streamArn, handler: before.handler(), onFailure: before.onFailure, checkpointStore: dying, batchSize: 4 });
    await before.until(() => before.succeeded.length === 10, 'all ten by the first process');
    await first.stop();

    // Act: a restart reads what actually reached the disk.
    const after = observer();
    start({ streamArn, handler: after.handler(), onFailure: after.onFailure, checkpointStore: fileCheckpointStore(path), batchSize: 4 });
    await after.until(() => after.succeeded.length === 6, 'the unacknowledged six again');

    // Assess: only the first batch was durably acknowledged; everything after it comes again, nothing is missing.
    expect(before.succeeded).toEqual(written);
    expect(after.succeeded).toEqual(written.slice(4));
    expect(new Set([...before.succeeded, ...after.succeeded])).toEqual(new Set(written));
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((e) => e instanceof Error && e.message.startsWith('killed after publishing'))).toBe(true);
  });

  it('sends a poison record to the on-failure destination after bounded retries while later records flow', async () => {
    // Prepare: the handler fails every batch that holds the poison record.
    const { streamArn, write } = await outbox();
    const good = ids('ok', 12);
    await write([...good.slice(0, 5), 'poison', ...good.slice(5, 9)]);
    const seen = observer();
    const handler = seen.handler((event) => {
      if (event.Records.some((r) => idOf(r) === 'poison')) throw new Error('cannot publish this one');
    });

    // Act
    start({ streamArn, handler, onFailure: seen.onFailure, batchSize: 16, maximumRetryAttempts: 2 });
    await seen.until(() => seen.failed.length === 1, 'the poison record at the destination');
    await write(good.slice(9));
    await seen.until(() => seen.succeeded.length === good.length, 'every good record');

    // Assess: bisection isolates it in at most log2(16) splits, then 1 attempt + 2 retries; the shard moved past it.
    expect(seen.failed).toEqual([{ ids: ['poison'], info: expect.objectContaining({ reason: 'RetryAttemptsExhausted', attempts: 3, batchSize: 1 }) }]);
    expect(seen.failed[0]!.info.startSequenceNumber).toBe(seen.failed[0]!.info.endSequenceNumber);
    expect(seen.failed[0]!.info.lastError).toBeInstanceOf(Error);
    const poisonDeliveries = seen.invocations.filter((batch) => batch.includes('poison')).length;
    expect(poisonDeliveries).toBeGreaterThanOrEqual(3);
    expect(poisonDeliveries).toBeLessThanOrEqual(Math.ceil(Math.log2(16)) + 1 + 2);
    expect(seen.succeeded).toEqual(good);
    expect(errors).toEqual([]);
  });

  it('retries a partial batch failure from the lowest failed record, not the records before it', async () => {
    // Prepare: the first invocation reports p04 and p02 as failed.
    const { streamArn, write } = await outbox();
    await write(ids('p', 6));
    const seen = observer();
    const handler = seen.handler((event) => {
      if (seen.invocations.length > 1) return;
      const failedIds = new Set(['p04', 'p02']);
      const failures = event.Records.filter((r) => failedIds.has(idOf(r))).map((r) => ({ itemIdentifier: r.dynamodb!.SequenceNumber! }));
      return { batchItemFailures: failures };
    });

    // Act
    start({ streamArn, handler, onFailure: seen.onFailure });
    await seen.until(() => seen.succeeded.includes('p05'), 'the retry to succeed');

    // Assess
    expect(seen.invocations).toEqual([ids('p', 6), ids('p', 6).slice(2)]);
    expect(seen.failed).toEqual([]);
  });

  it('sends records older than maximumRecordAgeSeconds to the destination without invoking the handler', async () => {
    const { streamArn, write } = await outbox();
    await write(ids('old', 3));
    const seen = observer();

    start({ streamArn, handler: seen.handler(), onFailure: seen.onFailure, maximumRecordAgeSeconds: 60, now: () => Date.now() + 3_600_000 });
    await seen.until(() => seen.failed.flatMap((f) => f.ids).length === 3, 'three expired records');

    expect(seen.invocations).toEqual([]);
    expect(seen.failed.map((f) => f.info)).toEqual([expect.objectContaining({ reason: 'RecordAgeExceeded', attempts: 0, batchSize: 3 })]);
  });
});

describe('Function: startStreamPoller (shard lifecycle, against a mocked Streams API)', () => {
  const streamArn = 'arn:aws:dynamodb:us-east-1:123456789012:table/outbox/stream/2026-01-01T00:00:00.000';
  const record = (id: string, seq: string): _Record => ({
    eventID: `ev-${id}`, eventName: 'REMOVE', awsRegion: 'us-east-1', userIdentity: { Type: 'Service', PrincipalId: 'dynamodb.amazonaws.com' },
    dynamodb: { ApproximateCreationDateTime: new Date(), Keys: { eventId: { S: id } }, OldImage: { eventId: { S: id }, raw: { BS: [new Uint8Array([1, 2])] } },
      NewImage: { eventId: { S: id } }, SequenceNumber: seq, SizeBytes: 10, StreamViewType: 'NEW_AND_OLD_IMAGES' },
  });

  it('drains a closed parent shard, re-acquires an expired iterator from the checkpoint, then reads the child', async () => {
    // Prepare: a closed parent with three records and an open child with two, listed over two DescribeStream pages.
    const client = new DynamoDBStreamsClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
    const mock = mockClient(client);
    const shards: Record<string, _Record[]> = { parent: [record('p1', '1'), record('p2', '2'), record('p3', '3')], child: [record('c1', '4'), record('c2', '5')] };
    const log: string[] = [];
    mock.on(DescribeStreamCommand).callsFake(async (input: { ExclusiveStartShardId?: string }) => ({
      StreamDescription: input.ExclusiveStartShardId
        ? { Shards: [{ ShardId: 'child', ParentShardId: 'parent' }] }
        : { Shards: [{ ShardId: 'parent' }], LastEvaluatedShardId: 'parent' },
    }));
    mock.on(GetShardIteratorCommand).callsFake(async (input: { ShardId: string; ShardIteratorType: string; SequenceNumber?: string }) => {
      log.push(`iterator ${input.ShardId} ${input.ShardIteratorType} ${input.SequenceNumber ?? ''}`.trim());
      const position = input.SequenceNumber ? shards[input.ShardId]!.findIndex((r) => r.dynamodb?.SequenceNumber === input.SequenceNumber) + 1 : 0;
      return { ShardIterator: `${input.ShardId}@${position}` };
    });
    let expireOnce = true;
    mock.on(GetRecordsCommand).callsFake(async (input: { ShardIterator: string; Limit: number }) => {
      const [shardId, at] = input.ShardIterator.split('@') as [string, string];
      if (shardId === 'parent' && at === '2' && expireOnce) {
        expireOnce = false;
        throw new ExpiredIteratorException({ message: 'Iterator expired', $metadata: {} });
      }
      const records = shards[shardId]!.slice(Number(at), Number(at) + input.Limit);
      const next = Number(at) + records.length;
      const closed = shardId === 'parent' && next === shards.parent!.length;
      if (records.length || closed) log.push(`records ${shardId} ${records.map((r) => r.dynamodb?.SequenceNumber).join(',')}${closed ? ' closed' : ''}`);
      return { Records: records, NextShardIterator: closed ? undefined : `${shardId}@${next}` };
    });
    const saved: Record<string, ShardCheckpoint> = {};
    const checkpointStore: CheckpointStore = { load: async () => ({}), save: async (shardId, checkpoint) => void (saved[shardId] = checkpoint) };
    const seen = observer();
    const errors: unknown[] = [];
    const delivered: DynamoDBRecord[] = [];

    // Act
    const poller = startStreamPoller({
      streamsClient: client, streamArn, checkpointStore, handler: seen.handler((event) => void delivered.push(...event.Records)), onFailure: seen.onFailure, batchSize: 2, onError: (e) => errors.push(e),
    });
    await seen.until(() => seen.succeeded.length === 5, 'both shards');
    await poller.stop();

    // Assess
    expect(seen.succeeded).toEqual(['p1', 'p2', 'p3', 'c1', 'c2']);
    expect(log.slice(0, 6)).toEqual([
      'iterator parent TRIM_HORIZON', 'records parent 1,2', 'iterator parent AFTER_SEQUENCE_NUMBER 2', 'records parent 3 closed',
      'iterator child TRIM_HORIZON', 'records child 4,5',
    ]);
    expect(saved).toEqual({ parent: { sequenceNumber: '3', done: true }, child: { sequenceNumber: '5' } });
    expect(errors).toEqual([]);
    expect(delivered[0]).toStrictEqual({
      eventID: 'ev-p1', eventName: 'REMOVE', eventVersion: '1.1', eventSource: 'aws:dynamodb', awsRegion: 'us-east-1',
      dynamodb: {
        ApproximateCreationDateTime: expect.any(Number), Keys: { eventId: { S: 'p1' } }, NewImage: { eventId: { S: 'p1' } },
        OldImage: { eventId: { S: 'p1' }, raw: { BS: ['AQI='] } }, SequenceNumber: '1', SizeBytes: 10, StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
      eventSourceARN: streamArn,
      userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' },
    });
  });
});

describe('Function: startStreamPoller (wake)', () => {
  it('reads at once after wake(), even when the wake came while an empty read was on its way back', async () => {
    const client = new DynamoDBStreamsClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
    const mock = mockClient(client);
    const streamArn = 'arn:aws:dynamodb:us-east-1:123456789012:table/outbox/stream/2026-01-01T00:00:00.000';
    const pending: _Record[] = [];
    let reads = 0;
    mock.on(DescribeStreamCommand).resolves({ StreamDescription: { Shards: [{ ShardId: 'only' }] } });
    mock.on(GetShardIteratorCommand).resolves({ ShardIterator: 'only@0' });
    mock.on(GetRecordsCommand).callsFake(async () => {
      const records = pending.splice(0);
      // The first read answers empty; a write and its wake() land before that answer is back, as when a function
      // commits while the poller's request is in flight.
      if (++reads === 1) {
        pending.push({ eventID: 'ev-w1', eventName: 'INSERT', dynamodb: { Keys: { eventId: { S: 'w1' } }, NewImage: { eventId: { S: 'w1' } }, SequenceNumber: '1', StreamViewType: 'NEW_AND_OLD_IMAGES' } });
        poller.wake();
      }
      return { Records: records, NextShardIterator: 'only@next' };
    });
    const seen = observer();
    // An idle wait far beyond the test's timeout: only the wake can bring the record in time.
    const poller = startStreamPoller({ streamsClient: client, streamArn, checkpointStore: { load: async () => ({}), save: async () => {} }, handler: seen.handler(), onFailure: seen.onFailure, pollIntervalMs: 600_000 });
    await seen.until(() => seen.succeeded.length === 1, 'the record written during the first read', 5_000);
    expect(seen.succeeded).toEqual(['w1']);
    await poller.stop();
  });
});

describe('Function: fileCheckpointStore', () => {
  it('folds the saves made during a write into the next one, and each resolves only once a write holds it', async () => {
    const arn = 'arn:aws:dynamodb:us-east-1:1:table/outbox/stream/2026-01-01T00:00:00.000';
    const written: string[] = [];
    let release!: () => void;
    const firstHeld = new Promise<void>((resolve) => (release = resolve));
    const store = fileCheckpointStore('/nonexistent/checkpoints.json', async (_path, text) => {
      if (written.push(text) === 1) await firstHeld;
    });
    await store.load(arn);
    let resolved = 0;
    const first = store.save('s0', { sequenceNumber: '1' }, arn).then(() => resolved++);
    await expect.poll(() => written.length).toBe(1);
    const later = Array.from({ length: 10 }, (_, i) => store.save(`s${i + 1}`, { sequenceNumber: String(i + 2) }, arn).then(() => resolved++));
    expect(resolved).toBe(0);

    release();
    await Promise.all([first, ...later]);
    expect(written).toHaveLength(2);
    const last = JSON.parse(written[1]!) as { streams: Record<string, { shards: Record<string, ShardCheckpoint> }> };
    expect(Object.keys(last.streams[arn]!.shards)).toHaveLength(11);
    expect(last.streams[arn]!.shards.s10).toEqual({ sequenceNumber: '11' });
  });

  it('keys checkpoints by stream ARN, so a recreated table starts afresh, and writes atomically', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'checkpoints-'));
    try {
      const path = join(dir, 'nested', 'checkpoints.json');
      const oldArn = 'arn:aws:dynamodb:us-east-1:1:table/outbox/stream/2026-01-01T00:00:00.000';
      const newArn = 'arn:aws:dynamodb:us-east-1:1:table/outbox/stream/2026-02-01T00:00:00.000';
      const otherArn = 'arn:aws:dynamodb:us-east-1:1:table/jobs/stream/2026-01-01T00:00:00.000';
      const store = fileCheckpointStore(path);
      await Promise.all([store.save('s1', { sequenceNumber: '10' }, oldArn), store.save('s2', { sequenceNumber: '20', done: true }, oldArn)]);
      await store.save('s9', { sequenceNumber: '90' }, otherArn);

      expect(await fileCheckpointStore(path).load(oldArn)).toEqual({ s1: { sequenceNumber: '10' }, s2: { sequenceNumber: '20', done: true } });
      expect(await fileCheckpointStore(path).load(newArn)).toEqual({});

      await store.save('s3', { sequenceNumber: '5' }, newArn);
      const file = JSON.parse(await readFile(path, 'utf8')) as { streams: Record<string, unknown> };
      expect(Object.keys(file.streams).sort()).toEqual([newArn, otherArn].sort());
      expect(await readdir(join(dir, 'nested'))).toEqual(['checkpoints.json']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('removes at load the temporary files that writers killed mid-write left, and only theirs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'checkpoints-'));
    try {
      const path = join(dir, 'checkpoints.json');
      const arn = 'arn:aws:dynamodb:us-east-1:1:table/outbox/stream/2026-01-01T00:00:00.000';
      await fileCheckpointStore(path).save('s1', { sequenceNumber: '7' }, arn);
      const gone = spawnSync('true').pid; // a process that has exited: its pid no longer runs
      const orphan = `checkpoints.json.${gone}.${randomUUID()}.tmp`;
      const live = `checkpoints.json.${process.pid}.${randomUUID()}.tmp`;
      const unrelated = `other.json.${gone}.${randomUUID()}.tmp`;
      for (const name of [orphan, live, unrelated]) await writeFile(join(dir, name), '{"ver');

      expect(await fileCheckpointStore(path).load(arn)).toEqual({ s1: { sequenceNumber: '7' } });
      expect((await readdir(dir)).sort()).toEqual(['checkpoints.json', live, unrelated].sort());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('makes its folder again when it was removed between two writes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'checkpoints-'));
    try {
      const path = join(dir, 'nested', 'checkpoints.json');
      const arn = 'arn:aws:dynamodb:us-east-1:1:table/outbox/stream/2026-01-01T00:00:00.000';
      await fileCheckpointStore(path).save('s1', { sequenceNumber: '1' }, arn);
      await rm(join(dir, 'nested'), { recursive: true });
      await fileCheckpointStore(path).save('s1', { sequenceNumber: '2' }, arn);
      expect(await fileCheckpointStore(path).load(arn)).toEqual({ s1: { sequenceNumber: '2' } });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('Function: memoryCheckpointStore', () => {
  it('keeps positions by stream ARN and hands out copies', async () => {
    const arn = 'arn:aws:dynamodb:us-east-1:1:table/outbox/stream/2026-01-01T00:00:00.000';
    const store = memoryCheckpointStore();
    await store.save('s1', { sequenceNumber: '10' }, arn);
    await store.save('s2', { sequenceNumber: '20', done: true }, arn);
    const loaded = await store.load(arn);
    loaded.s1!.sequenceNumber = 'changed';
    expect(await store.load(arn)).toEqual({ s1: { sequenceNumber: '10' }, s2: { sequenceNumber: '20', done: true } });
    expect(await store.load(`${arn}-other`)).toEqual({});
  });
});
