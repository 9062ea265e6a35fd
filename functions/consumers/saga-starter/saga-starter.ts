import type { SagaControl } from '../../adapters/stepfunctions/saga-control.ts';
import { jobRunOf, type EventEnvelope } from '../../core/events.ts';
import type { EffectOutcome } from '../consumer.ts';

export const SAGA_STARTER = 'saga-starter';

/** A throttled start waits up to this long, with full jitter, before it is tried again (SQS allows 900 s). */
export const MAX_DEFER_SECONDS = 60;

/** StartExecution refused for the account's rate (its bucket refills at 300/s in large regions, less elsewhere). */
export const isThrottled = (error: unknown) => {
  const { name, $metadata } = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return name === 'ThrottlingException' || name === 'TooManyRequestsException' || $metadata?.httpStatusCode === 429;
};

export interface SagaStarterDeps {
  saga: Pick<SagaControl, 'start'>;
  /** Puts the event back on the starter's queue, visible after `delaySeconds`. */
  defer(event: EventEnvelope, delaySeconds: number): Promise<void>;
  random?: () => number;
}

/**
 * JobQueued → one saga execution per job run. No inbox: the execution name (job id + run) is the idempotency key, so
 * a repeated event (the API's publish and the relay's, a redelivery) finds the execution started and changes
 * nothing, at the price of one StartExecution call, where a claim cost three DynamoDB calls per job. A throttled
 * start is delayed, never dropped: the event goes back on the queue with a jittered delay as a new message, so
 * throttling never counts towards the queue's maxReceiveCount and no job is left QUEUED in a DLQ for being in a burst.
 */
export function sagaStarter(deps: SagaStarterDeps) {
  const random = deps.random ?? Math.random;
  return async (event: EventEnvelope): Promise<EffectOutcome> => {
    if (event.type !== 'JobQueued') return 'skipped';
    const { jobId, run } = jobRunOf(event);
    try {
      return (await deps.saga.start(jobId, run)) === 'started' ? 'applied' : 'duplicate';
    } catch (error) {
      if (!isThrottled(error)) throw error;
      await deps.defer(event, 1 + Math.floor(random() * MAX_DEFER_SECONDS));
      return 'deferred';
    }
  };
}
