import { Logger } from '@aws-lambda-powertools/logger';
import { SQSClient } from '@aws-sdk/client-sqs';
import { createScalerHandler } from '../scaler-handler.ts';
import { fleetFromEnv } from '../wiring.ts';

/** Lambda entry of the scaler: an EventBridge Scheduler schedule (every minute) and the JobDispatched nudge queue. */
const logger = new Logger({ serviceName: 'forgeflow-scaler' });

// Every run reads the dispatch queues' depth, so SQS is made at init; Step Functions only when a run launches.
export const handler = createScalerHandler(fleetFromEnv({ ec2: false, queueDepth: true, releaseJobs: false }, process.env, { sqs: new SQSClient({}) }), logger);
