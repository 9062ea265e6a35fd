import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describeFailure } from '../functions/core/failure-reasons.ts';
import { JobStatus } from '../functions/core/job-status.ts';
import type { SagaService } from '../functions/core/saga.ts';
import { sagaExecutionName } from '../functions/declarations/statemachines.ts';
import type { LocalStepFunctions } from './stepfunctions/types.ts';

export interface RecoveryReport {
  restarted: number;
  interrupted: number;
  deadLettered: number;
}

const WAITING: readonly string[] = [JobStatus.QUEUED, JobStatus.RETRY_SCHEDULED];
const HELD: readonly string[] = [JobStatus.DISPATCHED, JobStatus.RUNNING];

/**
 * After a restart of the local runtime (even one that followed a SIGKILL), local Step Functions executions and
 * fauxqs messages are gone, but the jobs are in DynamoDB. Every job that was mid-run lost its worker: that attempt
 * counts (WORKER_LOST, under the job's normal retry policy); every job still waiting gets its saga again.
 * A Scan is acceptable here: it runs once at start of a local runtime, never on a request path.
 */
export async function recoverJobs(deps: { client: DynamoDBDocumentClient; jobsTable: string; saga: SagaService; engine: LocalStepFunctions; stateMachineArn: string }): Promise<RecoveryReport> {
  const report: RecoveryReport = { restarted: 0, interrupted: 0, deadLettered: 0 };
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await deps.client.send(
      new ScanCommand({
        TableName: deps.jobsTable,
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
        FilterExpression: '#s IN (:q, :r, :d, :x)',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':q': JobStatus.QUEUED, ':r': JobStatus.RETRY_SCHEDULED, ':d': JobStatus.DISPATCHED, ':x': JobStatus.RUNNING },
        ProjectionExpression: 'jobId, #s, run, execution',
      }),
    );
    for (const item of page.Items ?? []) {
      const jobId = String(item.jobId);
      const run = Number(item.run);
      if (HELD.includes(String(item.status))) {
        report.interrupted++;
        const outcome = await deps.saga.recordFailure({
          jobId,
          run,
          failure: describeFailure('WORKER_LOST', 'The local runtime stopped while this attempt ran; the attempt counts and the job is retried under its policy.'),
        });
        if (outcome.action !== 'retry') {
          report.deadLettered++;
          continue;
        }
      } else if (!WAITING.includes(String(item.status))) {
        continue;
      }
      // The name the job expects (a reconciler may have moved the run to a resumed execution), so its end is recognised.
      const name = typeof item.execution === 'string' ? item.execution : sagaExecutionName(jobId, run);
      await deps.engine.startExecution({ stateMachineArn: deps.stateMachineArn, name, input: JSON.stringify({ jobId, run }) });
      report.restarted++;
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return report;
}
