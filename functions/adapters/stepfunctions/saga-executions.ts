import type { SFNClient } from '@aws-sdk/client-sfn';
import type { ExecutionEnd, SagaExecutions } from '../../core/reconciler.ts';
import { executionArnOf } from '../../declarations/statemachines.ts';
import { asLazySfn, type LazySfn } from '../lazy-clients.ts';
import { startExecutionOnce } from './start-once.ts';

/** History pages read looking for a state's exit, newest first: the exit the reconciler wants is near the end. */
const MAX_HISTORY_PAGES = 3;

/** The job saga's executions on Step Functions, by name, for the reconciler. */
export class SfnSagaExecutions implements SagaExecutions {
  private readonly client: LazySfn;

  constructor(
    client: SFNClient | LazySfn,
    private readonly stateMachineArn: string,
  ) {
    this.client = asLazySfn(client);
  }

  describe(name: string): Promise<ExecutionEnd> {
    return this.client.use(async (sfn, sdk) => {
      try {
        const execution = await sfn.send(new sdk.DescribeExecutionCommand({ executionArn: this.arn(name) }));
        return { name, status: asEnded(execution.status), ...(execution.error ? { error: execution.error } : {}), ...(execution.cause ? { cause: execution.cause } : {}) };
      } catch (error) {
        if (error instanceof sdk.ExecutionDoesNotExist) return { name, status: 'GONE' };
        throw error;
      }
    });
  }

  stateOutput(name: string, stateNames: readonly string[]): Promise<unknown> {
    return this.client.use(async (sfn, sdk) => {
      let nextToken: string | undefined;
      for (let page = 0; page < MAX_HISTORY_PAGES; page++) {
        let history;
        try {
          history = await sfn.send(new sdk.GetExecutionHistoryCommand({ executionArn: this.arn(name), reverseOrder: true, maxResults: 1000, nextToken, includeExecutionData: true }));
        } catch (error) {
          if (error instanceof sdk.ExecutionDoesNotExist) return undefined;
          throw error;
        }
        const exit = history.events?.find((event) => stateNames.includes(event.stateExitedEventDetails?.name ?? ''));
        if (exit) return JSON.parse(exit.stateExitedEventDetails?.output ?? 'null') as unknown;
        nextToken = history.nextToken;
        if (!nextToken) return undefined;
      }
      return undefined;
    });
  }

  stop(name: string, error: string, cause: string): Promise<void> {
    return this.client.use(async (sfn, sdk) => {
      try {
        await sfn.send(new sdk.StopExecutionCommand({ executionArn: this.arn(name), error, cause }));
      } catch (caught) {
        if (!(caught instanceof sdk.ExecutionDoesNotExist)) throw caught;
      }
    });
  }

  async start(name: string, input: { jobId: string; run: number }): Promise<void> {
    await startExecutionOnce(this.client, this.stateMachineArn, name, input);
  }

  private arn(name: string): string {
    return executionArnOf(this.stateMachineArn, name);
  }
}

const ENDED = new Set(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']);

/** PENDING_REDRIVE (a redrive is starting) and any status added later count as still running: nothing to repair yet. */
function asEnded(status: string | undefined): ExecutionEnd['status'] {
  return status && ENDED.has(status) ? (status as ExecutionEnd['status']) : 'RUNNING';
}
