import type { AdmissionService } from '../../core/admission.ts';
import type { EventEnvelope } from '../../core/events.ts';
import type { EffectOutcome } from '../consumer.ts';

/** The events of a job that held a slot and gave it back (the AdmissionRule's pattern, checked again here). */
const RELEASES = new Set(['JobSucceeded', 'JobFailed', 'JobDeadLettered', 'JobCancelled', 'JobRetryScheduled']);
const HELD = new Set(['DISPATCHED', 'RUNNING']);

/**
 * One freed slot, one admission: the tenant's first waiting run is woken. No inbox: a repeated event wakes one run
 * too many, which finds no slot and parks again in its place; a lost one is what the WaitForSlot timeout is for.
 */
export function admissionConsumer(admission: Pick<AdmissionService, 'admit'>) {
  return async (event: EventEnvelope): Promise<EffectOutcome> => {
    const previous = (event.data as { previousStatus?: string | null }).previousStatus;
    if (!RELEASES.has(event.type) || !previous || !HELD.has(previous)) return 'skipped';
    const { woken } = await admission.admit(event.tenantId, 1);
    return woken > 0 ? 'applied' : 'skipped';
  };
}
