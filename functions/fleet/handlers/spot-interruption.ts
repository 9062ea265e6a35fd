import { Logger } from '@aws-lambda-powertools/logger';
import { createSpotInterruptionHandler } from '../spot-interruption.ts';
import { fleetFromEnv } from '../wiring.ts';

/** Lambda entry for "EC2 Spot Instance Interruption Warning" events (an EventBridge rule on the default bus). */
const logger = new Logger({ serviceName: 'forgeflow-spot-interruption' });

export const handler = createSpotInterruptionHandler(fleetFromEnv({ ec2: true, queueDepth: false, releaseJobs: false }), logger);
