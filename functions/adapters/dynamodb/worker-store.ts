import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { FleetBoundError, WorkerConflictError } from '../../core/fleet/errors.ts';
import type { FleetMove, FleetStatus, HeartbeatFields, ListWorkersQuery, WorkerChange, WorkerPage, WorkerStore } from '../../core/fleet/ports.ts';
import type { WorkerRecord } from '../../core/fleet/worker.ts';
import { isEndedWorker, WorkerState } from '../../core/fleet/worker-state.ts';
import { ENDED_WORKER_RETENTION_SECONDS, WORKERS_BY_CLASS_STATE, WORKERS_BY_FLEET, WORKERS_BY_INSTANCE } from '../../declarations/tables.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { outboxPut } from './outbox-item.ts';
import { metricsFromItem, metricsToItem } from './worker-metrics-store.ts';
import { transactWrite, type TransactItems } from './transact.ts';

export interface WorkerTableNames {
  workers: string;
  outbox: string;
  counters: string;
}

/** The fleet partition of the byFleet index: every worker, newest first. */
const FLEET_PARTITION = 'workers';
/** One counter item per class: how many of its workers are active. */
export const fleetCounterKey = (workerClass: string) => ({ scope: `fleet#${workerClass}`, shard: 0 });

const MAX_QUERY_PAGES_PER_LIST = 10;

/** Index attributes live only in the item, never in the record. */
function toItem(worker: WorkerRecord): Record<string, unknown> {
  const ended = isEndedWorker(worker.state);
  const { metrics, ...record } = worker;
  return {
    ...record,
    ...metricsToItem(metrics),
    fleet: FLEET_PARTITION,
    classState: `${worker.class}#${worker.state}`,
    createdKey: `${worker.createdAt}#${worker.workerId}`,
    ...(ended ? { expiresAt: Math.floor(Date.parse(worker.updatedAt) / 1000) + ENDED_WORKER_RETENTION_SECONDS } : {}),
  };
}

function fromItem(item: Record<string, unknown>): WorkerRecord {
  const { fleet: _f, classState: _c, createdKey: _k, expiresAt: _e, ...stored } = item;
  const { metrics, rest } = metricsFromItem(stored);
  return { ...rest, ...(metrics ? { metrics } : {}) } as unknown as WorkerRecord;
}

/**
 * WorkerStore on DynamoDB: a worker's state change is one TransactWriteItems of the worker (conditioned on its
 * state and version), its outbox event and its class's active count, with the bound the change asks for. The
 * counter makes the scaler's read O(1) and lets a bound (maximum, minimum, an exact count) hold across
 * concurrent writers without a lock.
 */
export class DynamoWorkerStore implements WorkerStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tables: WorkerTableNames,
  ) {}

  async get(workerId: string): Promise<WorkerRecord | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tables.workers, Key: { workerId }, ConsistentRead: true }));
    return Item ? fromItem(Item) : undefined;
  }

  async getByInstance(instanceId: string): Promise<WorkerRecord | undefined> {
    const { Items } = await this.client.send(
      new QueryCommand({
        TableName: this.tables.workers,
        IndexName: WORKERS_BY_INSTANCE.indexName,
        KeyConditionExpression: '#i = :i',
        ExpressionAttributeNames: { '#i': WORKERS_BY_INSTANCE.partitionKey.name },
        ExpressionAttributeValues: { ':i': instanceId },
      }),
    );
    // The index is eventually consistent: read the item itself for its current state.
    const found = Items?.[0];
    return found ? this.get(String(found.workerId)) : undefined;
  }

  async commit(change: WorkerChange): Promise<void> {
    const { worker, expected, event } = change;
    const items: TransactItems = [
      { Put: { TableName: this.tables.workers, Item: toItem(worker), ...this.versionCondition(worker, expected) } },
      outboxPut(this.tables.outbox, event),
    ];
    const counter = this.counterUpdate(change.fleet);
    if (counter) items.push(counter);
    try {
      await transactWrite(this.client, items, Math.random, event.id);
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const reasons = error.CancellationReasons ?? [];
      if (counter && reasons[2]?.Code === 'ConditionalCheckFailed') {
        throw new FleetBoundError(change.fleet.class, `The active worker count of class "${change.fleet.class}" does not allow this change`);
      }
      throw new WorkerConflictError(worker.workerId, { cause: error, details: { reasons: reasons.map((r) => r.Code) } });
    }
  }

  async update(worker: WorkerRecord, expected: { state: WorkerState; version: number }): Promise<void> {
    try {
      await this.client.send(new PutCommand({ TableName: this.tables.workers, Item: toItem(worker), ...this.versionCondition(worker, expected) }));
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new WorkerConflictError(worker.workerId, { cause: error });
      throw error;
    }
  }

  /**
   * One UpdateItem, no version bump: a heartbeat must never make a concurrent state change fail. A state change
   * written from an older read may put back a heartbeat one interval old; the reaper allows several misses.
   */
  async heartbeat(workerId: string, fields: HeartbeatFields): Promise<WorkerRecord | undefined> {
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tables.workers,
          Key: { workerId },
          UpdateExpression: `SET lastHeartbeatAt = :t, runningJobs = :n, runningJobIds = :ids, agentVersion = :v${fields.agentReport ? ', agentReport = :r' : ''}`,
          ConditionExpression: '#state IN (:ready, :draining)',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: {
            ':t': fields.lastHeartbeatAt,
            ':n': fields.runningJobs,
            ':ids': fields.runningJobIds,
            ':v': fields.agentVersion,
            ...(fields.agentReport ? { ':r': fields.agentReport } : {}),
            ':ready': WorkerState.READY,
            ':draining': WorkerState.DRAINING,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes ? fromItem(Attributes) : undefined;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  async list(query: ListWorkersQuery): Promise<WorkerPage> {
    const partition =
      query.class && query.state
        ? { index: WORKERS_BY_CLASS_STATE, value: `${query.class}#${query.state}`, filters: {} }
        : { index: WORKERS_BY_FLEET, value: FLEET_PARTITION, filters: { class: query.class, state: query.state } };
    const key = { name: partition.index.partitionKey.name, value: partition.value };
    let startKey: Record<string, unknown> | undefined = query.cursor ? decodeCursor(query.cursor, key) : undefined;
    const items: WorkerRecord[] = [];
    const filters = Object.entries(partition.filters).filter(([, v]) => v !== undefined) as [string, string][];
    for (let page = 0; page < MAX_QUERY_PAGES_PER_LIST; page++) {
      const input: QueryCommandInput = {
        TableName: this.tables.workers,
        IndexName: partition.index.indexName,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': key.name, ...Object.fromEntries(filters.map(([n], i) => [`#f${i}`, n])) },
        ExpressionAttributeValues: { ':pk': key.value, ...Object.fromEntries(filters.map(([, v], i) => [`:f${i}`, v])) },
        ScanIndexForward: false,
        Limit: query.limit - items.length,
        ExclusiveStartKey: startKey,
        ...(filters.length ? { FilterExpression: filters.map((_, i) => `#f${i} = :f${i}`).join(' AND ') } : {}),
      };
      const result = await this.client.send(new QueryCommand(input));
      items.push(...(result.Items ?? []).map(fromItem));
      startKey = result.LastEvaluatedKey;
      if (!startKey || items.length >= query.limit) break;
    }
    return startKey ? { items, nextCursor: encodeCursor(startKey) } : { items };
  }

  async activeCount(workerClass: string): Promise<number> {
    return (await this.fleetStatus(workerClass)).active;
  }

  async fleetStatus(workerClass: string): Promise<FleetStatus> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tables.counters, Key: fleetCounterKey(workerClass), ConsistentRead: true }));
    return {
      active: typeof Item?.active === 'number' ? Item.active : 0,
      consecutiveFailures: typeof Item?.consecutiveFailures === 'number' ? Item.consecutiveFailures : 0,
      ...(typeof Item?.lastFailureAt === 'string' ? { lastFailureAt: Item.lastFailureAt } : {}),
    };
  }

  private versionCondition(worker: WorkerRecord, expected: WorkerChange['expected']) {
    if (!expected) return { ConditionExpression: 'attribute_not_exists(workerId)' };
    return {
      ConditionExpression: '#state = :expectedState AND #version = :expectedVersion',
      ExpressionAttributeNames: { '#state': 'state', '#version': 'version' },
      ExpressionAttributeValues: { ':expectedState': expected.state, ':expectedVersion': expected.version },
    };
  }

  /** The count moves with the worker; a bound turns into the item's condition. No move and no bound: no item. */
  private counterUpdate(move: FleetMove): TransactItems[number] | undefined {
    const conditions: string[] = [];
    const values: Record<string, number> = { ':d': move.delta };
    if (move.expectActive !== undefined) {
      conditions.push(move.expectActive === 0 ? '(attribute_not_exists(active) OR active = :expect)' : 'active = :expect');
      values[':expect'] = move.expectActive;
    }
    if (move.belowMax !== undefined) {
      conditions.push('(attribute_not_exists(active) OR active < :max)');
      values[':max'] = move.belowMax;
    }
    if (move.aboveMin !== undefined) {
      conditions.push('active > :min');
      values[':min'] = move.aboveMin;
    }
    if (move.delta === 0 && conditions.length === 0 && !move.provisioning) return undefined;
    let update = 'ADD active :d';
    const strings: Record<string, string | number> = {};
    if (move.provisioning?.outcome === 'failed') {
      update = 'SET lastFailureAt = :at ADD active :d, consecutiveFailures :one';
      Object.assign(strings, { ':at': move.provisioning.at, ':one': 1 });
    } else if (move.provisioning?.outcome === 'ready') {
      update = 'SET consecutiveFailures = :zero ADD active :d';
      strings[':zero'] = 0;
    }
    return {
      Update: {
        TableName: this.tables.counters,
        Key: fleetCounterKey(move.class),
        UpdateExpression: update,
        ExpressionAttributeValues: { ...values, ...strings },
        ...(conditions.length ? { ConditionExpression: conditions.join(' AND ') } : {}),
      },
    };
  }
}
