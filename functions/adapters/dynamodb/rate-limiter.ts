import { ConditionalCheckFailedException, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { RateLimiter } from '../../core/ports.ts';
import { bucketConfigFor, fullAtBounds, fullAtWait, type RateLimits } from '../../core/token-bucket.ts';

/** A bucket's item in the counters table, beside (never inside) the stats and slot items. */
export const rateLimitKey = (key: string) => ({ scope: `ratelimit#${key}`, shard: 0 });

/** Takes whose conditional writes keep missing (each a branch another taker just made stale) stop after this many. */
const MAX_ATTEMPTS = 5;

/**
 * Tokens taken ahead: while this instance keeps taking from a key, one write takes as many tokens as it took in the
 * last window (at most `maxTokens`), and the spare ones grant the next takes here with no call. They are already
 * out of the shared bucket, so the limit still holds across instances; what a lease costs is tokens held here that
 * another instance may miss for up to `windowMs`, after which unused ones are dropped.
 */
export interface RateLimitLease {
  maxTokens: number;
  windowMs: number;
}

export interface DynamoRateLimiterOptions {
  /** The counters table (COUNTERS_TABLE). */
  table: string;
  limits: RateLimits;
  /** Off by default: one write per take (EC2's buckets, where every call counts). */
  lease?: RateLimitLease;
  now?: () => number;
}

type Attempt = { granted: true; fullAt: number } | { granted: false; current: number | undefined };

/** This instance's spare tokens of a key, and the times of its recent takes (what the next lease is sized by). */
interface LeaseState {
  spare: number;
  expiresAt: number;
  takes: number[];
}

const GRANTED = { granted: true, waitMs: 0 } as const;

/**
 * A token bucket shared by every Lambda instance: one item per key holding `fullAt` (epoch ms), the time at which the
 * bucket is full again (fullAtBounds in core/token-bucket.ts). EC2's RunInstances bucket is per account and region,
 * so a bucket per container would let N concurrent Lambdas send N times the allowed rate and turn EC2's throttling
 * into retry storms; one item in DynamoDB bounds them all together. (Stacks sharing an account and region each have
 * their own table, so each should get a share of the limits rather than all of them.) A tenant's API requests are
 * bounded the same way, one item per tenant.
 *
 * A take is one conditional UpdateItem and no read: "one interval later" when the bucket is not full (fullAt ≥ now,
 * and a whole token left), or "from now" when it is (fullAt < now, or no item). It tries the branch its own last
 * answer for the key points to; a miss returns the item (ReturnValuesOnConditionCheckFailure), which names the right
 * branch or an empty bucket. fullAt only grows, so a remembered fullAt past the limit refuses with no call at all.
 * Items of the earlier tokens-and-refilledAt layout have no fullAt and read as a full bucket.
 */
export class DynamoRateLimiter implements RateLimiter {
  private readonly now: () => number;
  /** The latest fullAt this instance saw per key: a lower bound of the stored one. */
  private readonly seen = new Map<string, number>();
  private readonly leases = new Map<string, LeaseState>();

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly options: DynamoRateLimiterOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  async take(key: string): Promise<{ granted: boolean; waitMs: number }> {
    const config = bucketConfigFor(this.options.limits, key);
    if (this.takeSpare(key)) return GRANTED;
    let want = this.leaseSize(key, config);
    let known = this.seen.get(key);
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      // The clock is read again for every attempt: a call that waited (a busy process, a slow network) must not
      // judge a bucket another taker moved meanwhile by the time it started, or it refuses a bucket that is full.
      const now = this.now();
      const { intervalMs, latestFullAt } = fullAtBounds(config, now);
      if (known !== undefined && known > latestFullAt) return { granted: false, waitMs: fullAtWait(known, config, now) };
      const partial = known !== undefined && known >= now;
      // Never ask a bucket that is not full for more than it holds: a lease shrinks, a single take still goes through.
      if (partial) want = Math.min(want, Math.floor((latestFullAt - known!) / intervalMs) + 1);
      const outcome = partial ? await this.takeFromPartial(key, now, intervalMs, latestFullAt, want) : await this.takeFromFull(key, now, intervalMs, want);
      known = outcome.granted ? outcome.fullAt : outcome.current;
      if (known !== undefined) this.seen.set(key, Math.max(known, this.seen.get(key) ?? known));
      if (outcome.granted) {
        this.keepSpare(key, want - 1, now);
        return GRANTED;
      }
    }
    // Every write missed a branch another taker had just changed: the bucket is busy, not empty (an empty one is
    // refused above). Refusing would answer 429 to a tenant well under its limit; granting lets the bucket run over
    // by at most the number of takers racing, which the next interval absorbs.
    return GRANTED;
  }

  /** Grants from this instance's spare tokens of the key, if it holds any that have not expired. */
  private takeSpare(key: string): boolean {
    const lease = this.options.lease && this.leases.get(key);
    if (!lease) return false;
    const now = this.now();
    // Only whether there were maxTokens takes matters (leaseSize), so no more are kept however busy the key is.
    lease.takes = [...lease.takes.filter((at) => at > now - this.options.lease!.windowMs), now].slice(-this.options.lease!.maxTokens);
    if (lease.spare === 0 || now >= lease.expiresAt) return false;
    lease.spare -= 1;
    return true;
  }

  /** How many tokens the next write takes: one, plus as many as this instance took in the last window. */
  private leaseSize(key: string, config: { burst: number }): number {
    const lease = this.options.lease;
    if (!lease) return 1;
    const recent = this.leases.get(key)?.takes.length ?? 0;
    return Math.max(1, Math.min(lease.maxTokens, config.burst, recent));
  }

  private keepSpare(key: string, spare: number, now: number): void {
    if (!this.options.lease) return;
    const lease = this.leases.get(key) ?? { spare: 0, expiresAt: 0, takes: [now] };
    // Concurrent takes of this instance may each have written: their spares add up rather than replace each other.
    lease.spare = (now < lease.expiresAt ? lease.spare : 0) + spare;
    lease.expiresAt = now + this.options.lease.windowMs;
    this.leases.set(key, lease);
  }

  /** The bucket is not full: `count` intervals later, if `count` whole tokens are left. */
  private takeFromPartial(key: string, now: number, intervalMs: number, latestFullAt: number, count: number): Promise<Attempt> {
    return this.conditionalUpdate(key, {
      UpdateExpression: 'SET #fullAt = #fullAt + :step',
      ConditionExpression: '#fullAt BETWEEN :now AND :latest',
      ExpressionAttributeValues: { ':step': count * intervalMs, ':now': now, ':latest': latestFullAt - (count - 1) * intervalMs },
    });
  }

  /** The bucket is full (or new): `count` intervals from now (count is at most the burst). */
  private takeFromFull(key: string, now: number, intervalMs: number, count: number): Promise<Attempt> {
    return this.conditionalUpdate(key, {
      UpdateExpression: 'SET #fullAt = :next',
      ConditionExpression: 'attribute_not_exists(#fullAt) OR #fullAt < :now',
      ExpressionAttributeValues: { ':next': now + count * intervalMs, ':now': now },
    });
  }

  private async conditionalUpdate(
    key: string,
    update: { UpdateExpression: string; ConditionExpression: string; ExpressionAttributeValues: Record<string, number> },
  ): Promise<Attempt> {
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.options.table,
          Key: rateLimitKey(key),
          ...update,
          // Named, so no attribute name can collide with a DynamoDB reserved word.
          ExpressionAttributeNames: { '#fullAt': 'fullAt' },
          ReturnValues: 'UPDATED_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { granted: true, fullAt: Number(Attributes?.fullAt) };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException || (error as Error).name === 'ConditionalCheckFailedException')) throw error;
      const item = (error as ConditionalCheckFailedException).Item as Record<string, AttributeValue> | undefined;
      const fullAt = item?.fullAt && 'N' in item.fullAt ? Number(item.fullAt.N) : undefined;
      return { granted: false, current: fullAt };
    }
  }
}
