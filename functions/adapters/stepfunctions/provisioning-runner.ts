import { ExecutionAlreadyExists, InvalidToken, SendTaskSuccessCommand, StartExecutionCommand, TaskDoesNotExist, TaskTimedOut, type SFNClient } from '@aws-sdk/client-sfn';
import type { ProvisioningRunner } from '../../core/fleet/ports.ts';

/** Answers to a token whose task is over: the saga moved on (timed out, or answered by the other path). */
const TASK_OVER = [TaskTimedOut, TaskDoesNotExist, InvalidToken];

/** The provisioning saga on Step Functions: one execution per worker, named after it, so a repeated start is harmless. */
export class StepFunctionsProvisioningRunner implements ProvisioningRunner {
  constructor(
    private readonly client: SFNClient,
    private readonly stateMachineArn: string,
  ) {}

  async start(workerId: string): Promise<void> {
    try {
      await this.client.send(new StartExecutionCommand({ stateMachineArn: this.stateMachineArn, name: workerId, input: JSON.stringify({ workerId }) }));
    } catch (error) {
      // Same name and input as a running execution is not even an error; a closed one answers this: both fine.
      if (!(error instanceof ExecutionAlreadyExists)) throw error;
    }
  }

  async registrationSucceeded(taskToken: string, output: { workerId: string; agentVersion: string }): Promise<void> {
    try {
      await this.client.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) }));
    } catch (error) {
      if (!TASK_OVER.some((type) => error instanceof type)) throw error;
    }
  }
}
