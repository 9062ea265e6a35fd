import { TASK_FAILURE_LIMITS } from '../../functions/core/saga-messages.ts';
import { ServiceError, type Operation } from '../json-protocol-server.ts';
import { TaskTokenError } from './token-registry.ts';
import type { HistoryEvent } from './engine.ts';
import type { LocalStepFunctions } from './types.ts';

const str = (input: Record<string, unknown>, key: string): string => {
  const value = input[key];
  if (typeof value !== 'string' || value === '') throw new ServiceError('InvalidParameterValue', `${key} is required`);
  return value;
};

/** What Step Functions accepts from SendTask* (API reference): larger answers are refused, as here. */
export const TASK_ANSWER_LIMITS = { ...TASK_FAILURE_LIMITS, outputBytes: 256 * 1024 } as const;

/** AWS's answer to a field over its limit: a ValidationException naming the field and the bound. */
function tooLong(field: string, limit: number): ServiceError {
  return new ServiceError('ValidationException', `1 validation error detected: Value at '${field}' failed to satisfy constraint: Member must have length less than or equal to ${limit}`);
}

/** Refuses a SendTaskSuccess/SendTaskFailure that AWS would refuse, with the same error. */
export function checkTaskAnswer(input: Record<string, unknown>): void {
  if (typeof input.error === 'string' && input.error.length > TASK_ANSWER_LIMITS.errorChars) throw tooLong('error', TASK_ANSWER_LIMITS.errorChars);
  if (typeof input.cause === 'string' && input.cause.length > TASK_ANSWER_LIMITS.causeChars) throw tooLong('cause', TASK_ANSWER_LIMITS.causeChars);
  if (typeof input.output === 'string' && Buffer.byteLength(input.output) > TASK_ANSWER_LIMITS.outputBytes) throw tooLong('output', TASK_ANSWER_LIMITS.outputBytes);
}

/** Turns task-token errors into the exceptions the Step Functions API answers with. */
function taskCall(action: () => void): Promise<Record<string, never>> {
  try {
    action();
    return Promise.resolve({});
  } catch (error) {
    if (error instanceof TaskTokenError) return Promise.reject(new ServiceError(error.type, error.message));
    return Promise.reject(error);
  }
}

/**
 * The Step Functions JSON protocol (`AWSStepFunctions.<Operation>`, application/x-amz-json-1.0) over the local
 * engine, so agents and handlers use the real SFNClient with `AWS_ENDPOINT_URL_SFN` pointing here.
 */
export function stepFunctionsOperations(engine: LocalStepFunctions): Record<string, Operation> {
  return {
    'AWSStepFunctions.SendTaskSuccess': (input) => {
      const output = str(input, 'output');
      checkTaskAnswer(input);
      let parsed: unknown;
      try {
        parsed = JSON.parse(output);
      } catch {
        return Promise.reject(new ServiceError('InvalidOutput', 'output is not valid JSON'));
      }
      return taskCall(() => engine.registry.succeed(str(input, 'taskToken'), parsed));
    },
    'AWSStepFunctions.SendTaskFailure': (input) => {
      checkTaskAnswer(input);
      return taskCall(() => engine.registry.fail(str(input, 'taskToken'), String(input.error ?? ''), String(input.cause ?? '')));
    },
    'AWSStepFunctions.SendTaskHeartbeat': (input) => taskCall(() => engine.registry.heartbeat(str(input, 'taskToken'))),
    'AWSStepFunctions.StartExecution': async (input) => {
      const result = await engine.startExecution({ stateMachineArn: str(input, 'stateMachineArn'), name: str(input, 'name'), input: String(input.input ?? '{}') });
      return { executionArn: result.executionArn, startDate: result.startDate.getTime() / 1000 };
    },
    'AWSStepFunctions.StopExecution': async (input) => {
      const executionArn = str(input, 'executionArn');
      if (!(await engine.describeExecution(executionArn))) throw new ServiceError('ExecutionDoesNotExist', `Execution does not exist: ${executionArn}`);
      const result = await engine.stopExecution({ executionArn, error: input.error as string | undefined, cause: input.cause as string | undefined });
      return { stopDate: result.stopDate.getTime() / 1000 };
    },
    'AWSStepFunctions.GetExecutionHistory': async (input) => historyPage(await engine.executionHistory(str(input, 'executionArn')), input),
    'AWSStepFunctions.DescribeExecution': async (input) => {
      const executionArn = str(input, 'executionArn');
      const execution = await engine.describeExecution(executionArn);
      if (!execution) throw new ServiceError('ExecutionDoesNotExist', `Execution does not exist: ${executionArn}`);
      return execution;
    },
  };
}

/**
 * GetExecutionHistory's shape for what the local engine records: state entries and exits (`<Type>StateEntered`,
 * `<Type>StateExited` with the state's name and JSON output), paged by `maxResults` (1000 at most, as in AWS) with
 * an opaque `nextToken`, newest first with `reverseOrder`.
 */
function historyPage(history: readonly HistoryEvent[], input: Record<string, unknown>) {
  const events = history
    .filter((event) => event.type === 'StateEntered' || event.type === 'StateExited')
    .map((event, index) => {
      const id = index + 1;
      if (event.type === 'StateEntered') return { id, type: `${event.stateType}StateEntered`, stateEnteredEventDetails: { name: event.state } };
      return { id, type: `${event.stateType}StateExited`, stateExitedEventDetails: { name: event.state, output: JSON.stringify(event.output ?? null) } };
    });
  if (input.reverseOrder === true) events.reverse();
  const max = typeof input.maxResults === 'number' && input.maxResults > 0 ? Math.min(input.maxResults, 1000) : 100;
  const start = typeof input.nextToken === 'string' ? Number(input.nextToken) : 0;
  if (!Number.isInteger(start) || start < 0) throw new ServiceError('InvalidToken', 'Invalid Token');
  const page = events.slice(start, start + max);
  return start + max < events.length ? { events: page, nextToken: String(start + max) } : { events: page };
}
