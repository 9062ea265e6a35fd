import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { RateLimiter } from '../../core/ports.ts';
import { bucketConfigFor, maySkipRefill, takeToken, type BucketState, type RateLimits } from '../../core/token-bucket.ts';

/** A bucket's item in the counters table, beside (never inside) the stats and slot items. */
export const rateLimitKey = (key: string) => ({ scope: `ratelimit#${key}`, shard: 0 });

/** Concurrent takers that keep losing the race stop after this many reads (see the end of `take`): it never waits. */
const MAX_ATTEMPTS = 5;
/**
 * A refill this recent when a take starts counts as the taker's own (see maySkipRefill), and so does any refill
 * newer than one the taker read before losing a race: takers arriving together on a full bucket race once, then
 * all remove a token. The price is at most (a take's duration + 100 ms) × refillPerSecond tokens above the burst,
 * and only when the bucket was about full.
 */
const REFILL_GRACE_MS = 100;

export interface DynamoRateLimiterOptions {
  /** The counters table (COUNTERS_TABLE). */
  table: string;
  limits: RateLimits;
  now?: () => number;
}

/**
 * A token bucket shared by every Lambda instance: one item per key holding `tokens` and `refilledAt` (epoch ms).
 * EC2's RunInstances bucket is per account and region, so a bucket per container would let N concurrent Lambdas
 * send N times the allowed rate and turn EC2's throttling into retry storms; one item in DynamoDB bounds them all
 * together. (Stacks sharing an account and region each have their own table, so each should get a share of the
 * limits rather than all of them.) A tenant's API requests are bounded the same way, one item per tenant.
 *
 * `take` reads the bucket consistently, then writes one of two ways. Usually it only removes a token (`tokens - 1`
 * if a whole one is left and nobody refilled since the read): removals commute, so concurrent takers all succeed.
 * Otherwise it refills and takes on the condition that nobody wrote in between; a loser re-reads and tries again.
 * Each take costs one strongly consistent read, plus one conditional write when granted.
 */
export class DynamoRateLimiter implements RateLimiter {
  private readonly now: () => number;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly options: DynamoRateLimiterOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  async take(key: string): Promise<{ granted: boolean; waitMs: number }> {
    const config = bucketConfigFor(this.options.limits, key);
    let refilledSince = this.now() - REFILL_GRACE_MS;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const current = await this.read(key);
      const now = this.now();
      if (current && maySkipRefill(current, config, now, refilledSince)) {
        if (await this.removeToken(key, current)) return { granted: true, waitMs: 0 };
      } else {
        const outcome = takeToken(current, config, now);
        if (!outcome.granted) return { granted: false, waitMs: outcome.waitMs };
        if (await this.write(key, current, outcome.state)) return { granted: true, waitMs: 0 };
      }
      // Another taker wrote first. If it refilled, that refill is as good as ours would have been.
      refilledSince = current ? Math.min(refilledSince, current.refilledAt + 1) : -Infinity;
    }
    // Every read found a token, and every write lost a race to another taker: the bucket is busy, not empty. Refusing
    // would answer 429 to a tenant well under its limit (it did, under 8 concurrent submits); granting lets the
    // bucket run over by at most the number of takers racing, which the next refill absorbs.
    return { granted: true, waitMs: 0 };
  }

  private async read(key: string): Promise<BucketState | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.options.table, Key: rateLimitKey(key), ConsistentRead: true }));
    if (typeof Item?.tokens !== 'number' || typeof Item.refilledAt !== 'number') return undefined;
    return { tokens: Item.tokens, refilledAt: Item.refilledAt };
  }

  /** Removes one token if one is left and nobody refilled since `read`; false if the condition failed. */
  private async removeToken(key: string, read: BucketState): Promise<boolean> {
    return this.conditionalUpdate(key, {
      UpdateExpression: 'SET #tokens = #tokens - :one',
      ConditionExpression: '#refilledAt = :readAt AND #tokens >= :one',
      ExpressionAttributeValues: { ':one': 1, ':readAt': read.refilledAt },
    });
  }

  /**
   * Writes the new state if the item is still as read; false if another taker wrote first. The condition names
   * tokens as well as refilledAt: two takes in the same millisecond leave refilledAt unchanged, and only the token
   * count then tells that a write happened.
   */
  private async write(key: string, read: BucketState | undefined, next: BucketState): Promise<boolean> {
    const condition: { ConditionExpression: string; values: Record<string, number> } = read
      ? { ConditionExpression: '#refilledAt = :readAt AND #tokens = :readTokens', values: { ':readAt': read.refilledAt, ':readTokens': read.tokens } }
      : { ConditionExpression: 'attribute_not_exists(#refilledAt)', values: {} };
    return this.conditionalUpdate(key, {
      UpdateExpression: 'SET #tokens = :tokens, #refilledAt = :refilledAt',
      ConditionExpression: condition.ConditionExpression,
      ExpressionAttributeValues: { ':tokens': next.tokens, ':refilledAt': next.refilledAt, ...condition.values },
    });
  }

  private async conditionalUpdate(
    key: string,
    update: { UpdateExpression: string; ConditionExpression: string; ExpressionAttributeValues: Record<string, number> },
  ): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.options.table,
          Key: rateLimitKey(key),
          ...update,
          // Named, so no attribute name can collide with a DynamoDB reserved word.
          ExpressionAttributeNames: { '#tokens': 'tokens', '#refilledAt': 'refilledAt' },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException || (error as Error).name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }
}
