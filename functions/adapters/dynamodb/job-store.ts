import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException, IdempotentParameterMismatchException, TransactionCanceledException, type AttributeValue, type CancellationReason } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { ConcurrentModificationError, JobAlreadyExistsError } from '../../core/errors.ts';
import type { EventEnvelope } from '../../core/events.ts';
import { toJobSummary, type JobRecord, type JobSummary } from '../../core/job.ts';
import type { JobBookkeepingChange, JobChange, JobPage, JobPatchChange, JobPatchStore, JobStore, ListJobsQuery, SlotDelta, SlotStore, StatsScope } from '../../core/ports.ts';
import { NoCapacityError, TenantRunsParkedError } from '../../core/saga-errors.ts';
import { counterDeltas } from '../../core/stats.ts';
import { JOBS_BY_TENANT, JOBS_BY_TENANT_STATUS } from '../../declarations/tables.ts';
import { counterShardItem, slotItem, summedMoves } from './counter-items.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { readCounters, slotKey } from './job-counters.ts';
import { fromJobItem, patchedIndexAttributes, tenantStatusKey, toJobItem } from './job-item.ts';
import { JOB_EVENT_ATTRIBUTE, outboxPut } from './outbox-item.ts';
import { transactWrite, type TransactItems } from './transact.ts';

export interface TableNames {
  jobs: string;
  outbox: string;
  counters: string;
}

/** Bounds the DynamoDB round trips one list call makes when a filter discards most items. */
const MAX_QUERY_PAGES_PER_LIST = 10;

/**
 * JobStore on DynamoDB: a change is one TransactWriteItems of job, outbox event, counters and, for the saga, the
 * tenant's slot item; a change that moves no counter and no slot (the agent's start) is one conditional write of the
 * job item, which carries its event to the outbox through the jobs table's stream (decision 0022).
 */
export class DynamoJobStore implements JobStore, SlotStore, JobPatchStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tables: TableNames,
    private readonly random: () => number = Math.random,
  ) {}

  async get(jobId: string): Promise<JobRecord | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tables.jobs, Key: { jobId }, ConsistentRead: true }),
    );
    return Item ? fromJobItem(Item) : undefined;
  }

  async commit(change: JobChange): Promise<void> {
    await this.writeChange((carried) => this.jobPut(change.job, change.expected, carried), { jobId: change.job.jobId, tenantId: change.job.tenantId, creates: !change.expected }, change);
  }

  /**
   * Every job, every event, and one counter update for all of them: one transaction for the batch (a submit batch
   * holds at most LIMITS.batchJobsMax jobs, so 2 × 25 + 1 items, under DynamoDB's 100).
   */
  async commitAll(changes: readonly JobChange[]): Promise<void> {
    const first = changes[0];
    if (!first) return;
    if (changes.some((c) => c.expected || c.slot || c.noneParked || c.job.tenantId !== first.job.tenantId)) {
      throw new Error('commitAll takes new jobs of one tenant, with no slot');
    }
    const moves = summedMoves(changes.flatMap((c) => counterDeltas(c.statusMove.from, c.statusMove.to, c.statusMove.priority)));
    const items: TransactItems = [
      ...changes.map((c) => this.jobPut(c.job, undefined)),
      ...changes.map((c) => outboxPut(this.tables.outbox, c.event)),
      ...counterShardItem(this.tables.counters, moves, first.job.tenantId, first.event.id),
    ];
    // The batch's event ids name it, as one event id names a single change; ClientRequestToken allows 36 characters.
    const token = createHash('sha256').update(changes.map((c) => c.event.id).join(',')).digest('hex').slice(0, 36);
    try {
      await transactWrite(this.client, items, this.random, token);
    } catch (error) {
      if (error instanceof IdempotentParameterMismatchException) throw new ConcurrentModificationError(first.job.jobId, { cause: error });
      const existing = error instanceof TransactionCanceledException ? (error.CancellationReasons ?? []).findIndex((r, i) => i < changes.length && r.Code === 'ConditionalCheckFailed') : -1;
      if (existing >= 0) throw new JobAlreadyExistsError(undefined, changes[existing]!.job.jobId);
      throw error;
    }
  }

  /** The same transaction as `commit`, with an UpdateItem conditioned on facts in place of the job's whole Put. */
  async commitPatch(change: JobPatchChange): Promise<void> {
    await this.writeChange((carried) => this.jobPatch(change, carried), { jobId: change.jobId, tenantId: change.tenantId, creates: false }, change);
  }

  /** `jobWrite(event)`: the job's write carrying `event`; without one, it drops any event an earlier write carried. */
  private async writeChange(jobWrite: (carried?: EventEnvelope) => TransactItems[number], job: { jobId: string; tenantId: string; creates: boolean }, change: Pick<JobChange, 'event' | 'statusMove' | 'slot' | 'noneParked'>): Promise<void> {
    const moves = summedMoves(counterDeltas(change.statusMove.from, change.statusMove.to, change.statusMove.priority));
    const slot = slotItem(this.tables.counters, change.slot, change.noneParked, moves);
    if (!slot && moves.length === 0) return this.writeAlone(jobWrite(change.event), job, change.event);
    // The slot item, when there is one, is last and carries the counter moves; otherwise a counter shard does.
    const items = [jobWrite(), outboxPut(this.tables.outbox, change.event), ...(slot ? [slot] : counterShardItem(this.tables.counters, moves, job.tenantId, change.event.id))];
    // The event id names the change: a repeat of the same call is the same transaction. An event that admits a
    // parked run is the second try of a change whose first try (saying none were parked) was refused: another request.
    const token = (change.event.data as { admitNext?: boolean }).admitNext ? `${change.event.id}-admitting` : change.event.id;
    await this.write({ jobId: job.jobId, creates: job.creates, slot: change.slot, noneParked: change.noneParked }, items, token);
  }

  /**
   * The job item alone, its event riding on it. A repeat of a write that DynamoDB applied (the SDK retries when an
   * answer is lost) fails its condition against our own write, which carries the same event: that is success, as a
   * transaction's ClientRequestToken would have said.
   */
  private async writeAlone(write: TransactItems[number], target: WriteTarget, event: EventEnvelope): Promise<void> {
    try {
      if (write.Put) await this.client.send(new PutCommand(write.Put));
      else await this.client.send(new UpdateCommand(write.Update!));
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      if (carriedEventId(error.Item) === event.id) return;
      throw conditionFailure(target, { Item: error.Item }, error);
    }
  }

  /** Platform-only fields (a compensation): the job item and its slot delta, without event or counters. */
  async commitBookkeeping(change: JobBookkeepingChange): Promise<void> {
    const items: TransactItems = [this.jobPut(change.job, change.expected)];
    const slot = slotItem(this.tables.counters, change.slot, undefined, []);
    if (slot) items.push(slot);
    // The job's next version names this change; ClientRequestToken allows 36 characters, hence the digest.
    await this.write({ jobId: change.job.jobId, creates: false, slot: change.slot }, items, createHash('sha256').update(`${change.job.jobId}#${change.job.version}`).digest('hex').slice(0, 36));
  }

  async slotsInUse(tenantId: string): Promise<number> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tables.counters, Key: slotKey(tenantId), ConsistentRead: true }));
    return typeof Item?.inUse === 'number' ? Item.inUse : 0;
  }

  /** The slot update is always the last item, so its cancellation reason is the last one. */
  private async write(target: WriteTarget, items: TransactItems, token: string): Promise<void> {
    try {
      await transactWrite(this.client, items, this.random, token);
    } catch (error) {
      // Another writer built the same next version of the job (same token, other content): it won the race.
      if (error instanceof IdempotentParameterMismatchException) throw new ConcurrentModificationError(target.jobId, { cause: error });
      if (!(error instanceof TransactionCanceledException)) throw error;
      const reasons = error.CancellationReasons ?? [];
      const jobReason = reasons[0];
      if (jobReason?.Code === 'ConditionalCheckFailed') throw conditionFailure(target, jobReason, error);
      if (reasons[items.length - 1]?.Code === 'ConditionalCheckFailed') {
        if (target.slot?.delta === 1) throw new NoCapacityError(target.slot.tenantId, target.slot.limit);
        if (target.noneParked) throw new TenantRunsParkedError(target.noneParked.tenantId);
      }
      throw new ConcurrentModificationError(target.jobId, { cause: error, details: { reasons: reasons.map((r) => r.Code) } });
    }
  }

  async list(query: ListJobsQuery): Promise<JobPage> {
    const partition = query.status
      ? { name: JOBS_BY_TENANT_STATUS.partitionKey.name, value: tenantStatusKey(query.tenantId, query.status), index: JOBS_BY_TENANT_STATUS }
      : { name: JOBS_BY_TENANT.partitionKey.name, value: query.tenantId, index: JOBS_BY_TENANT };
    let startKey: Record<string, unknown> | undefined = query.cursor ? decodeCursor(query.cursor, partition) : undefined;
    const items: JobSummary[] = [];
    for (let page = 0; page < MAX_QUERY_PAGES_PER_LIST; page++) {
      const input: QueryCommandInput = {
        TableName: this.tables.jobs,
        IndexName: partition.index.indexName,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': partition.name },
        ExpressionAttributeValues: { ':pk': partition.value },
        ScanIndexForward: false,
        Limit: query.limit - items.length,
        ExclusiveStartKey: startKey,
      };
      if (query.priority) {
        input.FilterExpression = '#priority = :priority';
        input.ExpressionAttributeNames!['#priority'] = 'priority';
        input.ExpressionAttributeValues![':priority'] = query.priority;
      }
      const result = await this.client.send(new QueryCommand(input));
      items.push(...(result.Items ?? []).map((item) => toJobSummary(fromJobItem(item))));
      startKey = result.LastEvaluatedKey;
      if (!startKey || items.length >= query.limit) break;
    }
    return startKey ? { items, nextCursor: encodeCursor(startKey) } : { items };
  }

  counters(scope: StatsScope): Promise<Record<string, number>> {
    return readCounters(this.client, this.tables.counters, scope);
  }

  async ping(): Promise<void> {
    await this.client.send(new GetCommand({ TableName: this.tables.jobs, Key: { jobId: '__health__' } }));
  }

  private jobPut(job: JobRecord, expected: JobChange['expected'], carried?: EventEnvelope): TransactItems[number] {
    const condition = expected
      ? {
          ConditionExpression: '#status = :expectedStatus AND #version = :expectedVersion',
          ExpressionAttributeNames: { '#status': 'status', '#version': 'version' },
          ExpressionAttributeValues: { ':expectedStatus': expected.status, ':expectedVersion': expected.version },
        }
      : { ConditionExpression: 'attribute_not_exists(jobId)' };
    const item = carried ? { ...toJobItem(job), [JOB_EVENT_ATTRIBUTE]: JSON.stringify(carried) } : toJobItem(job);
    return { Put: { TableName: this.tables.jobs, Item: item, ReturnValuesOnConditionCheckFailure: 'ALL_OLD', ...condition } };
  }

  private jobPatch(change: JobPatchChange, carried?: EventEnvelope): TransactItems[number] {
    const index = patchedIndexAttributes(change, change.expected.status, change.set);
    const carry = carried ? { set: { [JOB_EVENT_ATTRIBUTE]: JSON.stringify(carried) }, remove: [] } : { set: {}, remove: [JOB_EVENT_ATTRIBUTE] };
    const names: Record<string, string> = { '#version': 'version' };
    const values: Record<string, unknown> = { ':one': 1 };
    const sets = Object.entries({ ...change.set, ...index.set, ...carry.set }).map(([field, value], i) => {
      names[`#s${i}`] = field;
      values[`:s${i}`] = value;
      return `#s${i} = :s${i}`;
    });
    const removes = [...change.remove, ...index.remove, ...carry.remove].map((field, i) => {
      names[`#r${i}`] = field;
      return `#r${i}`;
    });
    const conditions = Object.entries(change.expected).map(([field, value], i) => {
      names[`#e${i}`] = field;
      values[`:e${i}`] = value;
      // A flag the job never had set reads as false.
      return value === false ? `(attribute_not_exists(#e${i}) OR #e${i} = :e${i})` : `#e${i} = :e${i}`;
    });
    return {
      Update: {
        TableName: this.tables.jobs,
        Key: { jobId: change.jobId },
        UpdateExpression: `SET ${[...sets, '#version = #version + :one'].join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''}`,
        ConditionExpression: conditions.join(' AND '),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    };
  }
}

/** The job a transaction writes, for telling its failures apart (the slot update is always its last item). */
interface WriteTarget {
  jobId: string;
  /** The job must not exist yet (a submit). */
  creates: boolean;
  slot?: SlotDelta;
  noneParked?: JobChange['noneParked'];
}

/** The id of the event a stored job item carries (JOB_EVENT_ATTRIBUTE), if any. */
function carriedEventId(item: Record<string, AttributeValue> | undefined): string | undefined {
  const carried = item?.[JOB_EVENT_ATTRIBUTE]?.S;
  if (carried === undefined) return undefined;
  try {
    return (JSON.parse(carried) as { id?: string }).id;
  } catch {
    return undefined;
  }
}

function conditionFailure(target: WriteTarget, reason: CancellationReason, cause: Error): Error {
  const existing = reason.Item ? fromJobItem(unmarshall(reason.Item)) : undefined;
  if (target.creates) return new JobAlreadyExistsError(existing, target.jobId);
  return new ConcurrentModificationError(target.jobId, { cause, details: { currentStatus: existing?.status }, ...(existing ? { current: existing } : {}) });
}
