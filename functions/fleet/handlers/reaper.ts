import { Logger } from '@aws-lambda-powertools/logger';
import type { ReapReport } from '../../core/fleet/reaper.ts';
import { fleetFromEnv } from '../wiring.ts';

/** Lambda entry of the reaper, on an EventBridge Scheduler schedule: one sweep per invocation. */
const logger = new Logger({ serviceName: 'forgeflow-reaper' });
const fleet = fleetFromEnv({ ec2: true, queueDepth: false, releaseJobs: true });

export const handler = async (): Promise<ReapReport> => {
  const report = await fleet.reaper.sweep();
  logger.info('sweep done', { ...report });
  return report;
};
