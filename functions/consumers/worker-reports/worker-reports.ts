import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { StartedAttempt } from '../../core/saga.ts';
import { WorkerReportSchema, type TaskFailureCause, type WorkerReport } from '../../core/saga-messages.ts';
import { flushMetrics } from '../../shared/metrics.ts';
import { MalformedMessageError } from '../consumer.ts';

/** SendTaskFailure, in AWS through @aws-sdk/client-sfn, locally through the task token registry. */
export type FailTask = (taskToken: string, error: string, cause: string) => Promise<void>;

export interface WorkerReportsOptions {
  saga: { recordRunning(report: WorkerReport): Promise<StartedAttempt> };
  failTask: FailTask;
  logger: Logger;
  metrics: Metrics;
}

/** The task already ended (answered, timed out, execution stopped): there is nothing left to fail. */
const CLOSED_TASK_ERRORS = new Set(['TaskTimedOut', 'TaskDoesNotExist']);

export function parseWorkerReport(record: SQSRecord): WorkerReport {
  try {
    return WorkerReportSchema.parse(JSON.parse(record.body));
  } catch (error) {
    throw new MalformedMessageError(`Message ${record.messageId} is not a valid worker report`, { cause: error });
  }
}

/**
 * Agents have no database access: they report a job's start to a queue and this consumer records RUNNING.
 * If the job was cancelled meanwhile, the report is the first moment the platform holds the attempt's task
 * token, so the consumer fails the task with CANCELLED and the saga records the cancel and compensates.
 * Recording is idempotent (a repeated report changes nothing); only the messages that failed return to the queue.
 */
export function createWorkerReportsConsumer(options: WorkerReportsOptions) {
  const cancelTask = async (report: WorkerReport) => {
    const cause: TaskFailureCause = { message: 'The job was cancelled on request.', workerId: report.workerId, startedAt: report.startedAt };
    try {
      await options.failTask(report.taskToken, 'CANCELLED', JSON.stringify(cause));
      options.metrics.addMetric('CancelledTasksFailed', MetricUnit.Count, 1);
    } catch (error) {
      if (!CLOSED_TASK_ERRORS.has((error as Error).name)) throw error;
      options.logger.info('task already closed; nothing to cancel', { jobId: report.jobId, attempt: report.attempt, error: (error as Error).name });
    }
  };
  const recordHandler = async (record: SQSRecord) => {
    const report = parseWorkerReport(record);
    const job = await options.saga.recordRunning(report);
    options.metrics.addMetric('WorkerReportsRecorded', MetricUnit.Count, 1);
    if (job.cancelRequested) await cancelTask(report);
  };
  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    try {
      // A processor per invocation: it keeps the batch's state, and local pollers invoke one module concurrently.
      return await processPartialResponse(event, recordHandler, new BatchProcessor(EventType.SQS), { context });
    } finally {
      flushMetrics(options.metrics);
    }
  };
}
