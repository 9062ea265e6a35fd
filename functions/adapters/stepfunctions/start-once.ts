import type { LazySfn } from '../lazy-clients.ts';

/**
 * Starts a named execution once: the name is the idempotency key. The same name and input as a running execution
 * is not even an error in AWS; a closed one, or other input, answers ExecutionAlreadyExists: both mean "started".
 */
export function startExecutionOnce(client: LazySfn, stateMachineArn: string, name: string, input: unknown): Promise<'started' | 'exists'> {
  return client.use(async (sfn, sdk) => {
    try {
      await sfn.send(new sdk.StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
      return 'started';
    } catch (error) {
      if (error instanceof sdk.ExecutionAlreadyExists) return 'exists';
      throw error;
    }
  });
}
