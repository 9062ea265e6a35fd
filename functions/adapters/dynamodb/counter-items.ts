import { createHash } from 'node:crypto';
import type { SlotDelta } from '../../core/ports.ts';
import type { CounterDelta } from '../../core/stats.ts';
import { COUNTER_SHARDS } from '../../declarations/tables.ts';
import { counterShardKey, slotKey } from './job-counters.ts';
import type { TransactItems } from './transact.ts';

/** Counter moves summed by name, without those that cancel out. */
export type CounterMoves = readonly (readonly [name: string, delta: number])[];

export function summedMoves(deltas: readonly CounterDelta[]): CounterMoves {
  const sums = new Map<string, number>();
  for (const d of deltas) sums.set(d.name, (sums.get(d.name) ?? 0) + d.delta);
  return [...sums].filter(([, delta]) => delta !== 0);
}

/**
 * No run of the tenant is parked: the slot item's `parked` count (DynamoWaitingJobs keeps it) is absent or 0. A count
 * below 0 (an entry parked before the count existed, then removed) reads as "maybe": the event admits, which is safe.
 */
const NONE_PARKED = { ConditionExpression: 'attribute_not_exists(parked) OR parked = :noneParked', ExpressionAttributeValues: { ':noneParked': 0 } };

/** `ADD` clauses for `adds` (attribute name → delta), with their placeholders. */
function addClauses(adds: CounterMoves) {
  return {
    clauses: adds.map((_, i) => `#c${i} :d${i}`),
    names: Object.fromEntries(adds.map(([name], i) => [`#c${i}`, name])),
    values: Object.fromEntries(adds.map(([, delta], i) => [`:d${i}`, delta])),
  };
}

/**
 * The tenant's slot item, for the change that reserves or releases a slot or must say that no run is parked; the
 * change's counter moves ride on it, so such a change writes one counters-table item, not two (the slot item is
 * written by every claim and end anyway, so the counters add no write and no hot key). A reservation is refused once
 * `limit` slots are in use; a release only ever follows a reservation, so it is unconditional unless it must say
 * that none are parked. Without a slot or `noneParked`, undefined: the counters go to a shard (counterShardItem).
 */
export function slotItem(table: string, slot: SlotDelta | undefined, noneParked: { tenantId: string } | undefined, moves: CounterMoves): TransactItems[number] | undefined {
  const tenantId = slot?.tenantId ?? noneParked?.tenantId;
  if (tenantId === undefined) return undefined;
  const Key = slotKey(tenantId);
  // Only a check: no slot moves and no counter does (the slot went back in an earlier compensation).
  if (!slot && moves.length === 0) return { ConditionCheck: { TableName: table, Key, ...NONE_PARKED } };
  const condition: { ConditionExpression?: string; ExpressionAttributeValues: Record<string, number> } =
    slot?.delta === 1 ? { ConditionExpression: 'attribute_not_exists(inUse) OR inUse < :limit', ExpressionAttributeValues: { ':limit': slot.limit } }
    : noneParked ? NONE_PARKED
    : { ExpressionAttributeValues: {} };
  const adds = addClauses([...(slot ? [['inUse', slot.delta] as const] : []), ...moves]);
  return {
    Update: {
      TableName: table,
      Key,
      UpdateExpression: `ADD ${adds.clauses.join(', ')}`,
      ExpressionAttributeNames: adds.names,
      ...condition,
      ExpressionAttributeValues: { ...condition.ExpressionAttributeValues, ...adds.values },
    },
  };
}

/** One update of one shard of the tenant's counters, for a change with no slot item; none if nothing moves. */
export function counterShardItem(table: string, moves: CounterMoves, tenantId: string, eventId: string): TransactItems {
  if (moves.length === 0) return [];
  // From the event id, not a random draw: a repeated call must be the very same request (ClientRequestToken), and
  // a ULID's random part spreads the shards just as well.
  const shard = createHash('sha256').update(eventId).digest().readUInt32BE(0) % COUNTER_SHARDS;
  const adds = addClauses(moves);
  // The tenant's counters only: the platform's are summed from them when asked (job-counters.ts).
  return [{ Update: { TableName: table, Key: counterShardKey(tenantId, shard), UpdateExpression: `ADD ${adds.clauses.join(', ')}`, ExpressionAttributeNames: adds.names, ExpressionAttributeValues: adds.values } }];
}
