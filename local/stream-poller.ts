import { setTimeout as delay } from 'node:timers/promises';
import { DescribeStreamCommand, GetRecordsCommand, GetShardIteratorCommand, type _Record, type Shard } from '@aws-sdk/client-dynamodb-streams';
import type { AttributeValue as StreamAttributeValue, DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { AttributeValue, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { CheckpointStore, ShardCheckpoint } from './stream-checkpoints.ts';

/** Lambda's `condition` names for records sent to an on-failure destination. */
export type FailureReason = 'RetryAttemptsExhausted' | 'RecordAgeExceeded';

export interface FailureInfo {
  streamArn: string;
  shardId: string;
  startSequenceNumber?: string;
  endSequenceNumber?: string;
  batchSize: number;
  reason: FailureReason;
  /** Failed invocations that held the first of these records (0 when it expired before any). */
  attempts: number;
  lastError?: unknown;
}

export type StreamHandler = (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse | void> | DynamoDBBatchResponse | void;

export interface StreamPollerOptions {
  streamsClient: DynamoDBStreamsClient;
  streamArn: string;
  handler: StreamHandler;
  checkpointStore: CheckpointStore;
  /**
   * Lambda's event filtering: only records it accepts reach the handler; the others are done as soon as they are read.
   * Default: every record.
   */
  filter?: (record: DynamoDBRecord) => boolean;
  /** Records per invocation, 1..1000: one GetRecords call (Lambda reads several to reach up to 10,000). Default 100. */
  batchSize?: number;
  /**
   * Wait after an empty GetRecords, cut short by `wake()`; a non-empty read is followed at once by the next. Default
   * 250: Lambda reads each shard four times a second.
   */
  pollIntervalMs?: number;
  /** Retries of a failing record after its first failure; -1: until it is too old, as in Lambda. Default 3. */
  maximumRetryAttempts?: number;
  /** -1: no limit. Default 3600. DynamoDB Local rounds creation times down to the minute: keep it at 60 or more, as Lambda does. */
  maximumRecordAgeSeconds?: number;
  /** Default true. */
  bisectBatchOnFunctionError?: boolean;
  /** The on-failure destination. Records are passed only once it resolves, so a failing destination loses nothing. */
  onFailure: (records: DynamoDBRecord[], info: FailureInfo) => Promise<void>;
  /** Default: console.error. */
  onError?: (error: unknown, context: { operation: string; shardId?: string }) => void;
  /** The region records report; DynamoDB Local says `ddblocal`, Lambda the table's region. Default: the client's. */
  awsRegion?: string;
  /** How often new shards are looked for; a drained shard triggers a look at once. Default 1000. */
  shardDiscoveryIntervalMs?: number;
  /** Cap of every backoff (SDK, checkpoint and destination errors, retries of a failing batch). Default 5000. */
  maxBackoffMs?: number;
  now?: () => number;
}

export interface StreamPoller {
  /** Lets the in-flight batch finish, saves checkpoints, resolves. Never rejects. */
  stop(): Promise<void>;
  /** Reads every shard now rather than after its idle wait: something may have written to the table. */
  wake(): void;
}

/** A run of records still to handle; `failures` counts failed invocations that began with its first record. */
type Segment = { records: DynamoDBRecord[]; failures: number };

/** Why a shard's idle wait ended early: a table was written. */
const WOKEN = Symbol('woken');
const errorName = (error: unknown) => (error instanceof Error ? error.name : undefined);
const lastOf = <T>(items: readonly T[]) => items[items.length - 1];
const first = <T>(items: Iterable<T>): T | undefined => items[Symbol.iterator]().next().value;
const sequenceOf = (record: DynamoDBRecord | undefined) => record?.dynamodb?.SequenceNumber;

/**
 * Emulates a Lambda event source mapping on a DynamoDB stream: each shard is read in order (children only after their
 * parent is drained) and handed to `handler` as `DynamoDBStreamEvent` batches. Failures follow Lambda's policy: partial
 * batch responses, bisection, bounded retries, maximum record age, on-failure destination. A checkpoint moves only
 * past records the handler acknowledged or the destination took, so delivery is at-least-once.
 *
 * @example
 * const poller = startStreamPoller({ streamsClient, streamArn, handler: relay, onFailure: toDlq,
 *   checkpointStore: fileCheckpointStore(join(home, 'stream-checkpoints.json')) });
 * await poller.stop();
 */
export function startStreamPoller(options: StreamPollerOptions): StreamPoller {
  const { streamsClient: client, streamArn, handler, checkpointStore: store, onFailure, now = Date.now } = options;
  const { batchSize = 100, pollIntervalMs = 250, maximumRetryAttempts: maxRetries = 3, maximumRecordAgeSeconds: maxAge = 3600 } = options;
  const { bisectBatchOnFunctionError: bisect = true, shardDiscoveryIntervalMs = 1000, maxBackoffMs = 5000 } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 1000) throw new RangeError('batchSize must be 1..1000');
  if (!Number.isInteger(maxRetries) || maxRetries < -1) throw new RangeError('maximumRetryAttempts must be -1 or more');
  if (maxAge < -1) throw new RangeError('maximumRecordAgeSeconds must be -1 or more');

  const stopping = new AbortController();
  const checkpoints: Record<string, ShardCheckpoint> = {};
  const unsaved = new Set<string>();
  const loops = new Map<string, Promise<void>>();
  let awsRegion = options.awsRegion;
  let shardDone = new AbortController(); // aborted when a shard finishes, so its children start without waiting
  let written = new AbortController(); // aborted (and replaced) by wake(): the shards' idle waits end
  const report = (error: unknown, operation: string, shardId?: string) => {
    try {
      (options.onError ?? ((e, c) => console.error(`[stream-poller] ${c.operation} ${c.shardId ?? ''}`, e)))(error, { operation, shardId });
    } catch {
      // A throwing reporter must not stop the shard it reports on.
    }
  };
  const backoff = (attempt: number, base = 100) => Math.min(maxBackoffMs, base * 2 ** attempt);
  // Every wait ends early on stop(), so stopping never waits out a backoff.
  const sleep = (ms: number, signal = stopping.signal) => delay(ms, undefined, { signal }).catch(() => undefined);

  // Saves run in the background, newest position per shard, so a checkpoint write (with its fsync) never delays the
  // next read. A position is still recorded only after its records were acknowledged. A failed save stays pending for
  // the next flush (the next acknowledgement or stop()); a restart before that re-delivers from the older position.
  let flushing: Promise<void> | undefined;
  const flush = (): Promise<void> =>
    (flushing ??= (async () => {
      // Yield first, so `flushing` is set before the body can finish; after the last size check it is cleared at once,
      // so a position acknowledged later always starts a new flush.
      await Promise.resolve();
      try {
        for (let shardId = first(unsaved); shardId !== undefined; shardId = first(unsaved)) {
          unsaved.delete(shardId);
          try {
            await store.save(shardId, { ...checkpoints[shardId] }, streamArn);
          } catch (error) {
            unsaved.add(shardId);
            return report(error, 'saveCheckpoint', shardId);
          }
        }
      } finally {
        flushing = undefined;
      }
    })());
  const persist = (shardId: string, update: ShardCheckpoint) => {
    checkpoints[shardId] = { ...checkpoints[shardId], ...update };
    unsaved.add(shardId);
    void flush();
  };
  const acknowledge = (shardId: string, record: DynamoDBRecord | undefined) => {
    const sequenceNumber = sequenceOf(record);
    if (sequenceNumber) persist(shardId, { sequenceNumber });
  };

  /** Hands records to the destination, then moves past them. False if stopped while the destination kept failing. */
  async function discard(shardId: string, records: DynamoDBRecord[], reason: FailureReason, attempts: number, lastError?: unknown) {
    const info: FailureInfo = { streamArn, shardId, batchSize: records.length, reason, attempts, lastError,
      startSequenceNumber: sequenceOf(records[0]), endSequenceNumber: sequenceOf(lastOf(records)) };
    for (let failures = 0; ; failures++) {
      try {
        await onFailure(records, info);
        return (acknowledge(shardId, lastOf(records)), true);
      } catch (error) {
        report(error, 'onFailure', shardId);
        if (stopping.signal.aborted) return false;
        await sleep(backoff(failures));
      }
    }
  }

  /** `failedAt`: index of the first record not acknowledged; `error`: the whole batch failed (so it may be bisected). */
  async function invoke(records: DynamoDBRecord[]): Promise<{ failedAt?: number; error?: unknown }> {
    let response: DynamoDBBatchResponse | void;
    try {
      response = await handler({ Records: records });
    } catch (error) {
      return { failedAt: 0, error };
    }
    let failedAt: number | undefined;
    for (const failure of response?.batchItemFailures ?? []) {
      // As in Lambda, an empty, null or unknown identifier fails the whole batch; otherwise the lowest one counts.
      const index = records.findIndex((r) => failure?.itemIdentifier && sequenceOf(r) === failure.itemIdentifier);
      if (index < 0) return { failedAt: 0, error: new Error(`batchItemFailures names no record of the batch: ${JSON.stringify(failure)}`) };
      failedAt = Math.min(failedAt ?? index, index);
    }
    return { failedAt };
  }

  const isFresh = (record: DynamoDBRecord) => {
    const created = record.dynamodb?.ApproximateCreationDateTime;
    return maxAge < 0 || created === undefined || now() / 1000 - created <= maxAge;
  };

  /** Runs one fetched batch until every record is acknowledged or discarded. False if stopped first. */
  async function processBatch(shardId: string, fetched: _Record[]): Promise<boolean> {
    const all = fetched.map((r) => toLambdaRecord(r, streamArn, awsRegion));
    const records = options.filter ? all.filter(options.filter) : all;
    const queue: Segment[] = records.length ? [{ records, failures: 0 }] : [];
    for (let segment = queue[0]; segment; segment = queue[0]) {
      if (stopping.signal.aborted) return false;
      // Creation times rise along a shard, so expired records form a prefix; they go to the destination uninvoked.
      const firstFresh = segment.records.findIndex(isFresh);
      let resolved: number; // records now acknowledged or discarded, from the front of the segment
      if (firstFresh !== 0) {
        resolved = firstFresh < 0 ? segment.records.length : firstFresh;
        if (!(await discard(shardId, segment.records.slice(0, resolved), 'RecordAgeExceeded', segment.failures))) return false;
      } else {
        const { failedAt, error } = await invoke(segment.records);
        if (failedAt === undefined) {
          acknowledge(shardId, lastOf(segment.records));
          resolved = segment.records.length;
        } else if (error !== undefined && bisect && segment.records.length > 1) {
          // As in Lambda, a split consumes no retry: a poison record is in at most ceil(log2(batchSize)) + 1 +
          // maximumRetryAttempts invocations before it goes to the destination.
          const half = Math.ceil(segment.records.length / 2);
          queue.splice(0, 1, { records: segment.records.slice(0, half), failures: 0 }, { records: segment.records.slice(half), failures: 0 });
          continue;
        } else {
          if (failedAt > 0) {
            // Partial response: Lambda checkpoints before the lowest failed record and retries from there.
            acknowledge(shardId, segment.records[failedAt - 1]);
            segment = queue[0] = { records: segment.records.slice(failedAt), failures: 0 };
          }
          if (maxRetries < 0 || segment.failures < maxRetries) {
            segment.failures += 1;
            await sleep(backoff(segment.failures - 1, pollIntervalMs));
            continue;
          }
          // A partial response names the culprit, so only it goes; a thrown error sends the whole (sub)batch, as Lambda does.
          resolved = error === undefined ? 1 : segment.records.length;
          if (!(await discard(shardId, segment.records.slice(0, resolved), 'RetryAttemptsExhausted', segment.failures + 1, error))) return false;
        }
      }
      const rest = segment.records.slice(resolved);
      if (rest.length) queue[0] = { records: rest, failures: 0 };
      else queue.shift();
    }
    // What the filter dropped after the last record handled is done too.
    if (records.length < all.length) acknowledge(shardId, lastOf(all));
    return true;
  }

  async function acquireIterator(shardId: string): Promise<string> {
    const get = (after?: string) =>
      client.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shardId,
        ShardIteratorType: after ? 'AFTER_SEQUENCE_NUMBER' : 'TRIM_HORIZON', SequenceNumber: after }));
    const after = checkpoints[shardId]?.sequenceNumber;
    let out;
    try {
      out = await get(after);
    } catch (error) {
      if (!after || errorName(error) !== 'TrimmedDataAccessException') throw error;
      // The checkpoint is older than the stream's retention: resume at the oldest record left.
      report(new Error(`Records after ${after} were trimmed before delivery`, { cause: error }), 'getShardIterator', shardId);
      out = await get();
    }
    if (!out.ShardIterator) throw new Error(`GetShardIterator returned no iterator for ${shardId}`);
    return out.ShardIterator;
  }

  async function pollShard(shardId: string): Promise<void> {
    let iterator: string | undefined;
    for (let failures = 0; !stopping.signal.aborted; ) {
      let records: _Record[];
      // Taken before the read: a wake() during it may be for a write the read did not see, so no idle wait follows.
      const wokenSince = written.signal;
      try {
        iterator ??= await acquireIterator(shardId);
        const out = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: batchSize }));
        [records, iterator, failures] = [out.Records ?? [], out.NextShardIterator, 0];
      } catch (error) {
        // Nothing fetched is pending here, so the checkpoint is exactly where reading resumes.
        iterator = undefined;
        if (errorName(error) === 'ResourceNotFoundException') return (report(error, 'getRecords', shardId), persist(shardId, { done: true }));
        // Iterators expire after 15 minutes (idle or slow handler): only a repeat is worth a report and a pause.
        if (errorName(error) !== 'ExpiredIteratorException' || failures > 0) {
          report(error, 'getRecords', shardId);
          await sleep(backoff(failures));
        }
        failures++;
        continue;
      }
      if (!(await processBatch(shardId, records))) return;
      // No next iterator: the shard is closed, now drained, and its children may start.
      if (!iterator) return persist(shardId, { done: true });
      if (records.length === 0) await sleep(pollIntervalMs, AbortSignal.any([stopping.signal, wokenSince]));
    }
  }

  async function listShards(): Promise<Shard[]> {
    const shards: Shard[] = [];
    let start: string | undefined;
    do {
      const out = await client.send(new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId: start }));
      shards.push(...(out.StreamDescription?.Shards ?? []));
      start = out.StreamDescription?.LastEvaluatedShardId;
    } while (start);
    return shards;
  }

  async function supervise(): Promise<void> {
    let loaded = false;
    for (let failures = 0; !stopping.signal.aborted; ) {
      try {
        if (!loaded) Object.assign(checkpoints, await store.load(streamArn));
        loaded = true;
        awsRegion ??= await client.config.region();
        const shards = await listShards();
        const listed = new Set(shards.map((s) => s.ShardId));
        for (const { ShardId: id, ParentShardId: parent } of shards) {
          if (!id || loops.has(id) || checkpoints[id]?.done) continue;
          // Like Lambda, start a child only once its parent is drained, so one key's records stay in order across a
          // split. A parent no longer listed was trimmed away: nothing to wait for.
          if (parent && listed.has(parent) && !checkpoints[parent]?.done) continue;
          const loop = pollShard(id)
            .catch((error: unknown) => report(error, 'pollShard', id))
            .finally(() => (loops.delete(id), checkpoints[id]?.done && shardDone.abort()));
          loops.set(id, loop);
        }
        failures = 0;
        await sleep(shardDiscoveryIntervalMs, AbortSignal.any([stopping.signal, shardDone.signal]));
        if (shardDone.signal.aborted) shardDone = new AbortController();
      } catch (error) {
        report(error, loaded ? 'describeStream' : 'loadCheckpoints');
        await sleep(backoff(failures++));
      }
    }
  }

  const supervisor = supervise();
  let stopped: Promise<void> | undefined;
  return {
    wake: () => {
      // A reason of our own: abort() without one builds a DOMException, stack and all, at every Lambda invocation's end.
      written.abort(WOKEN);
      written = new AbortController();
    },
    stop: () =>
      (stopped ??= (async () => {
        stopping.abort();
        await supervisor;
        await Promise.all(loops.values());
        await flushing;
        await flush();
      })()),
  };
}

/** Converts an SDK stream record into the JSON Lambda delivers (binary as base64, creation time in epoch seconds). */
export function toLambdaRecord(record: _Record, streamArn: string, awsRegion?: string): DynamoDBRecord {
  const { ApproximateCreationDateTime: created, Keys, NewImage, OldImage, ...rest } = record.dynamodb ?? {};
  const dynamodb = { ApproximateCreationDateTime: created && created.getTime() / 1000, Keys: toLambdaImage(Keys),
    NewImage: toLambdaImage(NewImage), OldImage: toLambdaImage(OldImage), SequenceNumber: rest.SequenceNumber,
    SizeBytes: rest.SizeBytes, StreamViewType: rest.StreamViewType };
  const { userIdentity: identity } = record;
  return withoutUndefined({ eventID: record.eventID, eventName: record.eventName, eventVersion: '1.1', eventSource: 'aws:dynamodb',
    awsRegion: awsRegion ?? record.awsRegion, dynamodb: withoutUndefined(dynamodb), eventSourceARN: streamArn,
    // TTL deletions carry the service identity, which Lambda spells in lower camel case.
    userIdentity: identity && { type: identity.Type, principalId: identity.PrincipalId } });
}

function toLambdaImage(image: Record<string, StreamAttributeValue> | undefined): Record<string, AttributeValue> | undefined {
  return image && Object.fromEntries(Object.entries(image).map(([name, value]) => [name, toLambdaValue(value)]));
}

function toLambdaValue(value: StreamAttributeValue): AttributeValue {
  const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
  if (value.B !== undefined) return { B: base64(value.B) };
  if (value.BS !== undefined) return { BS: value.BS.map(base64) };
  if (value.L !== undefined) return { L: value.L.map(toLambdaValue) };
  if (value.M !== undefined) return { M: toLambdaImage(value.M) ?? {} };
  return value as AttributeValue; // S, N, SS, NS, BOOL and NULL are the same JSON in the SDK and in Lambda events.
}

// Lambda's JSON has no key for an absent field (no OldImage on a NEW_IMAGE stream), so neither do these records.
function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
