import { Logger } from '@aws-lambda-powertools/logger';
import { createReconcilerHandler } from './reconcile-events.ts';
import { reconcilerFromEnv } from './wiring.ts';

/** Lambda entry of the reconciler: saga executions that ended abnormally (EventBridge rule) and the overdue sweep (schedule). */
const logger = new Logger({ serviceName: 'forgeflow-reconciler' });

export const handler = createReconcilerHandler(reconcilerFromEnv(), logger);
