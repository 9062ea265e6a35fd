import {
  ExecutionDoesNotExist,
  InvalidToken,
  SendTaskFailureCommand,
  StopExecutionCommand,
  TaskDoesNotExist,
  TaskTimedOut,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { executionArnOf, sagaExecutionName } from '../../declarations/statemachines.ts';
import { startExecutionOnce } from './start-once.ts';

/** Errors that mean "that task is already over": answering it again is a harmless no-op. */
const TASK_OVER = [TaskTimedOut, TaskDoesNotExist, InvalidToken];
export const isTaskOverError = (error: unknown) => TASK_OVER.some((type) => error instanceof type);

/**
 * What consumers ask of the job saga on Step Functions. Every call is idempotent by construction: the execution
 * name is derived from (job, run), and a task that is already over cannot be failed twice.
 */
export class SagaControl {
  constructor(
    private readonly client: SFNClient,
    private readonly stateMachineArn: string,
  ) {}

  /** Starts the saga of one job run; 'exists' when that run's execution was started before. */
  start(jobId: string, run: number): Promise<'started' | 'exists'> {
    return startExecutionOnce(this.client, this.stateMachineArn, sagaExecutionName(jobId, run), { jobId, run });
  }

  /**
   * Stops the saga of a waiting job run (queued, parked, or in its backoff Wait): the run's first execution, or the
   * one the reconciler moved it to. A finished or unknown one is fine.
   */
  async stop(jobId: string, run: number, cause: string, execution = sagaExecutionName(jobId, run)): Promise<void> {
    try {
      await this.client.send(new StopExecutionCommand({ executionArn: executionArnOf(this.stateMachineArn, execution), error: 'CANCELLED', cause }));
    } catch (error) {
      if (!(error instanceof ExecutionDoesNotExist)) throw error;
    }
  }

  /** Fails the task a worker holds, so the saga takes its failure path with this reason. */
  async failTask(taskToken: string, reason: string, cause: Record<string, unknown>): Promise<'failed' | 'already-over'> {
    try {
      await this.client.send(new SendTaskFailureCommand({ taskToken, error: reason, cause: JSON.stringify(cause) }));
      return 'failed';
    } catch (error) {
      if (isTaskOverError(error)) return 'already-over';
      throw error;
    }
  }
}
