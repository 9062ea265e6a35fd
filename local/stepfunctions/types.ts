import type { HistoryEvent } from './engine.ts';
import type { TaskTokenRegistry } from './token-registry.ts';

/** What the local Step Functions engine offers the runtime and the JSON-protocol endpoint. */
export interface LocalStepFunctions {
  readonly registry: TaskTokenRegistry;
  /**
   * Starts an execution of a state machine. Like AWS: the same name with the same input while it runs returns the
   * running execution; the same name with another input, or the name of a closed execution, is ExecutionAlreadyExists.
   */
  startExecution(input: { stateMachineArn: string; name: string; input: string }): Promise<{ executionArn: string; startDate: Date }>;
  /** Aborts a running execution (status ABORTED); its task tokens answer TaskTimedOut from then on. */
  stopExecution(input: { executionArn: string; error?: string; cause?: string }): Promise<{ stopDate: Date }>;
  /** Throws ExecutionDoesNotExist (a ServiceError) for an unknown execution. */
  executionHistory(executionArn: string): Promise<readonly HistoryEvent[]>;
  describeExecution(executionArn: string): Promise<{ executionArn: string; name: string; status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED'; output?: string; error?: string; cause?: string } | undefined>;
}

export { executionArnOf } from '../../functions/declarations/statemachines.ts';
