import { SendTaskSuccessCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { ProvisioningRunner } from '../../core/fleet/ports.ts';
import { isTaskOverError } from './saga-control.ts';
import { startExecutionOnce } from './start-once.ts';

/** The provisioning saga on Step Functions: one execution per worker, named after it, so a repeated start is harmless. */
export class StepFunctionsProvisioningRunner implements ProvisioningRunner {
  constructor(
    private readonly client: SFNClient,
    private readonly stateMachineArn: string,
  ) {}

  async start(workerId: string): Promise<void> {
    await startExecutionOnce(this.client, this.stateMachineArn, workerId, { workerId });
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
