import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { SagaControl } from '../../adapters/stepfunctions/saga-control.ts';
import { DispatchMessageSchema } from '../../core/saga-messages.ts';
import { JOB_SAGA } from '../../declarations/statemachines.ts';
import { readStateMachineArn } from '../../shared/config.ts';
import { flushMetrics } from '../../shared/metrics.ts';

const logger = new Logger({ serviceName: 'forgeflow-dispatch-dlq' });
const metrics = new Metrics({ namespace: 'Forgeflow', serviceName: 'forgeflow-dispatch-dlq' });
const saga = new SagaControl(new SFNClient({}), readStateMachineArn(JOB_SAGA));

/**
 * A dispatch message lands here after maxReceiveCount receives: agents took it and then stopped extending its
 * visibility (they died). The task is failed with WORKER_LOST, so the saga retries under the job's policy.
 * Failing a task twice is harmless (the second answer finds it over), so no inbox is needed.
 */
async function workerLost(record: SQSRecord): Promise<void> {
  const message = DispatchMessageSchema.parse(JSON.parse(record.body));
  const receives = record.attributes.ApproximateReceiveCount;
  const outcome = await saga.failTask(message.taskToken, 'WORKER_LOST', {
    message: `No worker finished attempt ${message.attempt} of job ${message.jobId}: its dispatch was received ${receives} times and each worker stopped reporting liveness`,
  });
  metrics.addMetric(outcome === 'failed' ? 'WorkersLost' : 'WorkerLostAlreadyOver', MetricUnit.Count, 1);
  logger.warn('worker lost', { jobId: message.jobId, attempt: message.attempt, outcome });
}

export const handler = async (event: SQSEvent, context: Context) => {
  try {
    // A processor per invocation: it keeps the batch's state, and local pollers invoke one module concurrently.
    return await processPartialResponse(event, workerLost, new BatchProcessor(EventType.SQS), { context });
  } finally {
    flushMetrics(metrics);
  }
};
