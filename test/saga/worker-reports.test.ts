import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSEvent } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { createWorkerReportsConsumer, type FailTask } from '../../functions/consumers/worker-reports/worker-reports.ts';
import type { JobRecord } from '../../functions/core/job.ts';
import type { WorkerReport } from '../../functions/core/saga-messages.ts';
import { lambdaContext } from '../../local/lambda.ts';
import { sampleJob } from '../support/events.ts';

const report = (jobId: string): WorkerReport => ({
  type: 'started', jobId, run: 1, attempt: 1, workerId: 'w1', startedAt: '2030-01-01T00:00:00.000Z', taskToken: `token-${jobId}`,
});

const sqsEvent = (...bodies: string[]) => ({ Records: bodies.map((body, i) => ({ messageId: `m${i}`, body })) }) as SQSEvent;

function consumer(jobs: Record<string, Partial<JobRecord> | Error>, failTask: FailTask = vi.fn(async () => {})) {
  const recordRunning = vi.fn(async (r: WorkerReport) => {
    const outcome = jobs[r.jobId];
    if (outcome instanceof Error) throw outcome;
    return { ...sampleJob(r.jobId), status: 'RUNNING', ...outcome } as JobRecord;
  });
  const handler = createWorkerReportsConsumer({
    saga: { recordRunning },
    failTask,
    logger: new Logger({ logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: 'ForgeflowTest' }),
  });
  return { recordRunning, failTask, handle: (event: SQSEvent) => handler(event, lambdaContext('forgeflow-worker-reports', 30_000)) };
}

describe('Function: worker reports consumer', () => {
  it('records each start and returns only the messages that failed', async () => {
    const { recordRunning, failTask, handle } = consumer({ a: {}, b: new Error('DynamoDB down') });

    const response = await handle(sqsEvent(JSON.stringify(report('a')), JSON.stringify(report('b')), '{"type":"started"}', 'not json'));

    expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['m1', 'm2', 'm3']);
    expect(recordRunning).toHaveBeenCalledTimes(2);
    expect(recordRunning).toHaveBeenCalledWith(report('a'));
    expect(failTask).not.toHaveBeenCalled();
  });

  it('fails the task with CANCELLED when the job was cancelled meanwhile', async () => {
    const { failTask, handle } = consumer({ a: { cancelRequested: true } });

    const response = await handle(sqsEvent(JSON.stringify(report('a'))));

    expect(response.batchItemFailures).toEqual([]);
    expect(failTask).toHaveBeenCalledWith('token-a', 'CANCELLED', expect.any(String));
    const cause = JSON.parse(vi.mocked(failTask).mock.calls[0]![2]);
    expect(cause).toEqual({ message: 'The job was cancelled on request.', workerId: 'w1', startedAt: '2030-01-01T00:00:00.000Z' });
  });

  it.each(['TaskTimedOut', 'TaskDoesNotExist'])('treats %s as done: the task already ended', async (name) => {
    const failTask = vi.fn(async () => {
      throw Object.assign(new Error('closed'), { name });
    });
    const { handle } = consumer({ a: { cancelRequested: true } }, failTask);

    expect((await handle(sqsEvent(JSON.stringify(report('a'))))).batchItemFailures).toEqual([]);
  });

  it('returns the message when failing the task fails for another reason', async () => {
    const failTask = vi.fn(async () => {
      throw Object.assign(new Error('throttled'), { name: 'ThrottlingException' });
    });
    const { handle } = consumer({ a: { cancelRequested: true }, b: {} }, failTask);

    const response = await handle(sqsEvent(JSON.stringify(report('a')), JSON.stringify(report('b'))));

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm0' }]);
  });
});
