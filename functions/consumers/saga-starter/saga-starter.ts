import type { DynamoInbox } from '../../adapters/dynamodb/inbox.ts';
import type { SagaControl } from '../../adapters/stepfunctions/saga-control.ts';
import type { EventEnvelope } from '../../core/events.ts';
import type { EffectOutcome } from '../consumer.ts';

export const SAGA_STARTER = 'saga-starter';

/**
 * JobQueued → one saga execution per job run. The inbox claim makes the start happen once per event; the execution
 * name (job id + run) makes even a repeat after a crash harmless.
 */
export function sagaStarter(deps: { inbox: DynamoInbox; saga: SagaControl; leaseSeconds: number }) {
  return async (event: EventEnvelope): Promise<EffectOutcome> => {
    if (event.type !== 'JobQueued') return 'skipped';
    const { jobId, run } = event.data as { jobId: string; run: number };
    return deps.inbox.runExternalOnce(SAGA_STARTER, event.id, deps.leaseSeconds, async () => {
      await deps.saga.start(jobId, run);
    });
  };
}
