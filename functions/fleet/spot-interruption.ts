import type { Logger } from '@aws-lambda-powertools/logger';
import * as z from 'zod';
import type { Fleet } from '../core/fleet/fleet.ts';

/** The EventBridge event EC2 sends two minutes before it reclaims a spot instance. */
const SpotInterruptionSchema = z.object({
  source: z.literal('aws.ec2'),
  'detail-type': z.literal('EC2 Spot Instance Interruption Warning'),
  detail: z.object({ 'instance-id': z.string(), 'instance-action': z.string() }),
});

/**
 * A spot interruption warning drains its worker at once with RELEASE: the agent, at its next heartbeat, gives its
 * jobs' dispatch messages back (visibility 0), so they run elsewhere without waiting for visibility to lapse.
 */
export function createSpotInterruptionHandler(fleet: Pick<Fleet, 'spotInterrupted'>, logger: Pick<Logger, 'info' | 'warn'>) {
  return async (event: unknown): Promise<{ workerId?: string; state?: string }> => {
    const parsed = SpotInterruptionSchema.safeParse(event);
    if (!parsed.success) {
      logger.warn('not a spot interruption warning; ignored', { issues: parsed.error.issues.length });
      return {};
    }
    const worker = await fleet.spotInterrupted(parsed.data.detail['instance-id']);
    if (!worker) return {};
    logger.info('spot interruption: worker draining', { workerId: worker.workerId, state: worker.state });
    return { workerId: worker.workerId, state: worker.state };
  };
}
