import { ExecutionAlreadyExists, SendTaskSuccessCommand, StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { ProvisioningRunner } from '../../core/fleet/ports.ts';
import { isTaskOverError } from './saga-control.ts';

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
      // The saga moved on (timed out, or answered by the other path): nothing left to answer.
      if (!isTaskOverError(error)) throw error;
    }
  }
}
