import { Logger } from '@aws-lambda-powertools/logger';
import { createScalerHandler } from '../scaler-handler.ts';
import { fleetFromEnv } from '../wiring.ts';

/** Lambda entry of the scaler: an EventBridge Scheduler schedule (every minute) and the JobDispatched nudge queue. */
const logger = new Logger({ serviceName: 'forgeflow-scaler' });

export const handler = createScalerHandler(fleetFromEnv({ ec2: false, queueDepth: true, releaseJobs: false }), logger);
