import type { SFNClient } from '@aws-sdk/client-sfn';
import type { ProvisioningRunner } from '../../core/fleet/ports.ts';
import { asLazySfn, type LazySfn } from '../lazy-clients.ts';
import { isTaskOverError } from './saga-control.ts';
import { startExecutionOnce } from './start-once.ts';

/** The provisioning saga on Step Functions: one execution per worker, named after it, so a repeated start is harmless. */
export class StepFunctionsProvisioningRunner implements ProvisioningRunner {
  private readonly client: LazySfn;

  constructor(
    client: SFNClient | LazySfn,
    private readonly stateMachineArn: string,
  ) {
    this.client = asLazySfn(client);
  }

  async start(workerId: string): Promise<void> {
    await startExecutionOnce(this.client, this.stateMachineArn, workerId, { workerId });
  }

  registrationSucceeded(taskToken: string, output: { workerId: string; agentVersion: string }): Promise<void> {
    return this.client.use(async (sfn, sdk) => {
      try {
        await sfn.send(new sdk.SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) }));
      } catch (error) {
        // The saga moved on (timed out, or answered by the other path): nothing left to answer.
        if (!isTaskOverError(error)) throw error;
      }
    });
  }
}
