import type { DynamoInbox } from '../../adapters/dynamodb/inbox.ts';
import type { SagaControl } from '../../adapters/stepfunctions/saga-control.ts';
import { jobRunOf, type EventEnvelope } from '../../core/events.ts';
import type { JobStore } from '../../core/ports.ts';
import type { EffectOutcome } from '../consumer.ts';

export const JOB_CONTROL = 'job-control';

/**
 * Cancellations reach the saga:
 * - JobCancelled (the job was waiting): its execution is stopped; nothing runs anywhere.
 * - JobCancelRequested (a worker holds it): the task the worker answers is failed with CANCELLED, so the saga
 *   compensates and records CANCELLED; the agent's next heartbeat is refused and it stops the process group.
 *   When no worker has reported yet there is no token: the worker-reports consumer fails the task on arrival.
 */
export function jobControl(deps: { inbox: DynamoInbox; saga: Pick<SagaControl, 'stop' | 'failTask'>; store: Pick<JobStore, 'get'>; leaseSeconds: number }) {
  return async (event: EventEnvelope): Promise<EffectOutcome> => {
    const { jobId, run } = jobRunOf(event);
    if (event.type === 'JobCancelled') {
      return deps.inbox.runExternalOnce(JOB_CONTROL, event.id, deps.leaseSeconds, async () => {
        // The execution the job records: a run the reconciler resumed is in an execution of another name.
        const job = await deps.store.get(jobId);
        await deps.saga.stop(jobId, run, `Cancelled (event ${event.id})`, job?.run === run ? job.execution : undefined);
      });
    }
    if (event.type === 'JobCancelRequested') {
      return deps.inbox.runExternalOnce(JOB_CONTROL, event.id, deps.leaseSeconds, async () => {
        const job = await deps.store.get(jobId);
        const token = (job as { taskToken?: string } | undefined)?.taskToken;
        if (job && token && job.run === run) {
          await deps.saga.failTask(token, 'CANCELLED', { message: `Cancelled by ${String((event.data as { requestedBy?: string }).requestedBy ?? 'a user')}` });
        }
      });
    }
    return 'skipped';
  };
}
