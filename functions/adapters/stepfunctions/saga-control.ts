import type { SFNClient } from '@aws-sdk/client-sfn';
import { executionArnOf, sagaExecutionName } from '../../declarations/statemachines.ts';
import { asLazySfn, type LazySfn } from '../lazy-clients.ts';
import type { ClaimSpec } from '../../core/claim-spec.ts';
import type { FailureReason } from '../../core/failure-reasons.ts';
import { startExecutionOnce } from './start-once.ts';

/**
 * Errors that mean "that task is already over": answering it again is a harmless no-op. Matched by the name the SDK
 * gives each modelled error, so this module needs no class of an SDK it may not have loaded yet (lazy-clients.ts).
 */
const TASK_OVER = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);
export const isTaskOverError = (error: unknown) => error instanceof Error && TASK_OVER.has(error.name);

/**
 * What consumers ask of the job saga on Step Functions. Every call is idempotent by construction: the execution
 * name is derived from (job, run), and a task that is already over cannot be failed twice.
 */
export class SagaControl {
  private readonly client: LazySfn;

  constructor(
    client: SFNClient | LazySfn,
    private readonly stateMachineArn: string,
  ) {
    this.client = asLazySfn(client);
  }

  /**
   * Starts the saga of one job run; 'exists' when that run's execution was started before. With the job's `spec`, its
   * first claim needs no read of the job.
   */
  start(jobId: string, run: number, spec?: ClaimSpec): Promise<'started' | 'exists'> {
    return startExecutionOnce(this.client, this.stateMachineArn, sagaExecutionName(jobId, run), { jobId, run, ...(spec ? { spec } : {}) });
  }

  /**
   * Stops the saga of a waiting job run (queued, parked, or in its backoff Wait): the run's first execution, or the
   * one the reconciler moved it to. A finished or unknown one is fine.
   */
  stop(jobId: string, run: number, cause: string, execution = sagaExecutionName(jobId, run)): Promise<void> {
    return this.client.use(async (sfn, sdk) => {
      try {
        await sfn.send(new sdk.StopExecutionCommand({ executionArn: executionArnOf(this.stateMachineArn, execution), error: 'CANCELLED', cause }));
      } catch (error) {
        if (!(error instanceof sdk.ExecutionDoesNotExist)) throw error;
      }
    });
  }

  /** Fails the task a worker holds, so the saga takes its failure path with this reason. */
  failTask(taskToken: string, reason: FailureReason, cause: Record<string, unknown>): Promise<'failed' | 'already-over'> {
    return this.client.use(async (sfn, sdk) => {
      try {
        await sfn.send(new sdk.SendTaskFailureCommand({ taskToken, error: reason, cause: JSON.stringify(cause) }));
        return 'failed';
      } catch (error) {
        if (isTaskOverError(error)) return 'already-over';
        throw error;
      }
    });
  }
}
