import { ExecutionAlreadyExists, StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';

/**
 * Starts a named execution once: the name is the idempotency key. The same name and input as a running execution
 * is not even an error in AWS; a closed one, or other input, answers ExecutionAlreadyExists: both mean "started".
 */
export async function startExecutionOnce(client: SFNClient, stateMachineArn: string, name: string, input: unknown): Promise<'started' | 'exists'> {
  try {
    await client.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
    return 'started';
  } catch (error) {
    if (error instanceof ExecutionAlreadyExists) return 'exists';
    throw error;
  }
}
