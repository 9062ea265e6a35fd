import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { WorkerMetricsStore, WorkerMetricsUpdate } from '../../core/fleet/metrics-ports.ts';
import type { MetricSource, WorkerMetrics } from '../../core/fleet/worker-metrics.ts';
import { WorkerState } from '../../core/fleet/worker-state.ts';
import { WORKERS_BY_CLASS_STATE } from '../../declarations/tables.ts';
import { outboxPut } from './outbox-item.ts';
import { transactWrite, type TransactItems } from './transact.ts';

/**
 * Each source's block is a top-level attribute of the worker item, not a field of one `metrics` map: an update of
 * one block then never needs the map to exist (workers stored before metrics had none) and never touches another
 * source's block.
 */
const BLOCK_ATTRIBUTES: Record<MetricSource, string> = { ec2: 'metricsEc2', cloudWatch: 'metricsCloudWatch', agent: 'metricsAgent' };

/** The record's `metrics` as item attributes. */
export function metricsToItem(metrics: WorkerMetrics | undefined): Record<string, unknown> {
  return Object.fromEntries(Object.entries(metrics ?? {}).map(([source, block]) => [BLOCK_ATTRIBUTES[source as MetricSource], block]));
}

/** The item's block attributes back as the record's `metrics` (and the item without them). */
export function metricsFromItem(item: Record<string, unknown>): { metrics?: WorkerMetrics; rest: Record<string, unknown> } {
  const rest = { ...item };
  const metrics: Record<string, unknown> = {};
  for (const [source, attribute] of Object.entries(BLOCK_ATTRIBUTES)) {
    if (attribute in rest) metrics[source] = rest[attribute];
    delete rest[attribute];
  }
  return Object.keys(metrics).length ? { metrics: metrics as WorkerMetrics, rest } : { rest };
}

export class DynamoWorkerMetricsStore implements WorkerMetricsStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tables: { workers: string; outbox: string },
  ) {}

  async recordMetrics(workerId: string, update: WorkerMetricsUpdate): Promise<boolean> {
    const names: Record<string, string> = { '#state': 'state' };
    const values: Record<string, unknown> = { ':terminated': WorkerState.TERMINATED, ':failed': WorkerState.FAILED };
    const sets: string[] = [];
    for (const [source, block] of Object.entries(update.metrics)) {
      names[`#${source}`] = BLOCK_ATTRIBUTES[source as MetricSource];
      values[`:${source}`] = block;
      sets.push(`#${source} = :${source}`);
    }
    if (update.alerts) {
      names['#alerts'] = 'alerts';
      values[':alerts'] = update.alerts;
      sets.push('#alerts = :alerts');
    }
    const items: TransactItems = [
      {
        Update: {
          TableName: this.tables.workers,
          Key: { workerId },
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: 'attribute_exists(workerId) AND NOT #state IN (:terminated, :failed)',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        },
      },
      ...update.events.map((event) => outboxPut(this.tables.outbox, event)),
    ];
    try {
      await transactWrite(this.client, items, Math.random, update.events[0]?.id);
      return true;
    } catch (error) {
      if (error instanceof TransactionCanceledException && error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed') return false;
      throw error;
    }
  }

  async countByState(workerClass: string, state: string): Promise<number> {
    let count = 0;
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tables.workers,
          IndexName: WORKERS_BY_CLASS_STATE.indexName,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': WORKERS_BY_CLASS_STATE.partitionKey.name },
          ExpressionAttributeValues: { ':pk': `${workerClass}#${state}` },
          Select: 'COUNT',
          ExclusiveStartKey: startKey,
        }),
      );
      count += page.Count ?? 0;
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return count;
  }
}
