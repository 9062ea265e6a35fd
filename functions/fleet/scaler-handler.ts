import type { Logger } from '@aws-lambda-powertools/logger';
import type { SQSEvent } from 'aws-lambda';
import * as z from 'zod';
import { eventFromMessage } from '../consumers/consumer.ts';
import type { Fleet } from '../core/fleet/fleet.ts';
import type { ScaleDecision } from '../core/fleet/scaler.ts';

/** What the schedule sends: one class, or every class when absent. */
const ScheduledInputSchema = z.object({ workerClass: z.string().optional() }).loose();

const isSqsEvent = (event: unknown): event is SQSEvent => Array.isArray((event as { Records?: unknown } | undefined)?.Records);

/**
 * The scaler's two triggers in one function: the schedule reconciles every class; a batch of JobDispatched
 * nudges reconciles each class named in it once. A nudge that cannot be read is logged and dropped: the
 * schedule covers it within a minute, so it never needs a retry (nor a DLQ trip).
 */
export function createScalerHandler(fleet: Pick<Fleet, 'scaler' | 'classNames'>, logger: Pick<Logger, 'info' | 'warn'>) {
  const scaler = fleet.scaler;
  if (!scaler) throw new Error('The scaler handler needs a fleet wired with a queue depth');
  return async (event: unknown): Promise<{ decisions: ScaleDecision[]; batchItemFailures: [] }> => {
    const classes = new Set<string>();
    if (isSqsEvent(event)) {
      for (const record of event.Records) {
        try {
          const { data } = eventFromMessage(record);
          if ('workerClass' in data) classes.add(data.workerClass);
        } catch (error) {
          logger.warn('unreadable scaler nudge dropped', { messageId: record.messageId, error: (error as Error).message });
        }
      }
    } else {
      const input = ScheduledInputSchema.parse(event ?? {});
      for (const name of input.workerClass ? [input.workerClass] : fleet.classNames) classes.add(name);
    }
    const decisions: ScaleDecision[] = [];
    for (const workerClass of classes) {
      if (!fleet.classNames.includes(workerClass)) continue;
      const decision = await scaler.reconcile(workerClass, `scaler-${Date.now()}`);
      decisions.push(decision);
      if (decision.launched.length > 0) logger.info('scaled out', { ...decision });
    }
    return { decisions, batchItemFailures: [] };
  };
}
