import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import type { CollectionReport } from '../../core/fleet/metrics-collector.ts';
import { METRICS_NAMESPACE } from '../../declarations/metrics.ts';
import { WORKER_CLASSES } from '../../declarations/workers.ts';
import { flushMetrics } from '../../shared/metrics.ts';
import { metricsRecorder } from '../../shared/platform-metrics.ts';
import { collectorFromEnv } from '../wiring.ts';

/** What each class's schedule sends: the class whose workers to collect. */
export const CollectorInputSchema = z.strictObject({ workerClass: z.enum(WORKER_CLASSES) });

const logger = new Logger({ serviceName: 'forgeflow-metrics-collector' });
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'forgeflow-metrics-collector' });
// Each run with a worker up reads CloudWatch, so its client is made at init. EC2's is still made on first use: its
// import takes 0.8 s, which a run with no worker need not pay (decision 0018).
const collector = collectorFromEnv(metricsRecorder(metrics), process.env, { cloudWatch: new CloudWatchClient({}) });

/**
 * Lambda entry of the metrics collector, on one EventBridge Scheduler schedule per worker class. A bad input fails
 * the invocation with the schema's message (the schedule's retries then stop at its DLQ-less retry budget).
 */
export const handler = async (input: unknown, context: Context): Promise<CollectionReport> => {
  const { workerClass } = CollectorInputSchema.parse(input);
  try {
    const report = await collector.collectClass(workerClass, `collect-${context.awsRequestId}`);
    if (report.failed > 0) logger.warn('some workers could not be written; the next run writes them', { ...report });
    else logger.info('collection done', { workerClass, ...report });
    return report;
  } finally {
    flushMetrics(metrics);
  }
};
