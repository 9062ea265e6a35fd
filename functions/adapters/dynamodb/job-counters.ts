import { BatchGetCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isCounterName } from '../../core/stats.ts';
import type { StatsScope } from '../../core/ports.ts';
import { COUNTER_SHARDS } from '../../declarations/tables.ts';

/** The prefix of every tenant's counter shards in the counters table (`tenant#<id>#<shard>`). */
const TENANT_SCOPE_PREFIX = 'tenant#';

/**
 * One shard of a tenant's stats counters. The shard is part of the partition key, so the shards of one tenant land on
 * different partitions, not one hot key.
 */
export const counterShardKey = (tenantId: string, shard: number) => ({ scope: `${TENANT_SCOPE_PREFIX}${tenantId}#${shard}`, shard });

/** The prefix of every tenant's slot item (`slots#<id>`). */
const SLOT_SCOPE_PREFIX = 'slots#';

/**
 * A tenant's slot item: its slots in use (`inUse`) and parked runs (`parked`), and the counter moves of the changes
 * that take or give back a slot (counter-items.ts), so those changes write one item of this table, not two.
 */
export const slotKey = (tenantId: string) => ({ scope: `${SLOT_SCOPE_PREFIX}${tenantId}`, shard: 0 });


/**
 * The stats counters of a scope, summed over its shards and its slot item. Every state change writes its tenant's
 * counters only: the platform's are the sum of every tenant's, read with a Scan of the tenant items. That keeps an
 * item out of every transaction (two write units per state change) and a platform-wide hot key out of every commit;
 * the price is a read that grows with the number of tenants, for the one caller that needs it (a platform admin's
 * stats).
 */
export async function readCounters(client: DynamoDBDocumentClient, table: string, scope: StatsScope): Promise<Record<string, number>> {
  const items = scope === 'global' ? await scanTenantShards(client, table) : await getShards(client, table, scope.tenantId);
  const totals: Record<string, number> = {};
  for (const item of items) {
    for (const [name, value] of Object.entries(item)) {
      // The slot item's own counts (inUse, parked) are not counters.
      if (isCounterName(name) && typeof value === 'number') totals[name] = (totals[name] ?? 0) + value;
    }
  }
  return totals;
}

/**
 * One BatchGetItem of a fixed number of shard items: O(1) whatever the number of jobs. (A Query of one partition
 * would read them for less, but that partition would take every write: reads of stats are the rarer call.)
 */
async function getShards(client: DynamoDBDocumentClient, table: string, tenantId: string): Promise<Record<string, unknown>[]> {
  let keys: Record<string, unknown>[] = [...Array.from({ length: COUNTER_SHARDS }, (_, shard) => counterShardKey(tenantId, shard)), slotKey(tenantId)];
  const items: Record<string, unknown>[] = [];
  // Keys DynamoDB left unprocessed (throttling) are asked for again; the SDK already backs off between calls.
  for (let attempt = 1; keys.length > 0; attempt++) {
    if (attempt > 5) throw new Error(`Stats of tenant ${tenantId}: ${keys.length} counter shards stayed unprocessed`);
    const result = await client.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: keys, ConsistentRead: true } } }));
    items.push(...(result.Responses?.[table] ?? []));
    keys = result.UnprocessedKeys?.[table]?.Keys ?? [];
  }
  return items;
}

/** Every tenant's counter shards and slot items. */
async function scanTenantShards(client: DynamoDBDocumentClient, table: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const result = await client.send(
      new ScanCommand({
        TableName: table,
        ConsistentRead: true,
        FilterExpression: 'begins_with(#scope, :tenant) OR begins_with(#scope, :slots)',
        ExpressionAttributeNames: { '#scope': 'scope' },
        ExpressionAttributeValues: { ':tenant': TENANT_SCOPE_PREFIX, ':slots': SLOT_SCOPE_PREFIX },
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
      }),
    );
    items.push(...(result.Items ?? []));
    startKey = result.LastEvaluatedKey;
  } while (startKey);
  return items;
}
