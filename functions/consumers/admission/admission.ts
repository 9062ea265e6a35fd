import type { AdmissionService } from '../../core/admission.ts';
import { freesSlot, type EventEnvelope } from '../../core/events.ts';
import type { EffectOutcome } from '../consumer.ts';

/**
 * One freed slot, one admission: the tenant's first waiting run is woken. No inbox: a repeated event wakes one run
 * too many, which finds no slot and parks again in its place; a lost one is what the WaitForSlot timeout is for.
 */
export function admissionConsumer(admission: Pick<AdmissionService, 'admit'>) {
  return async (event: EventEnvelope): Promise<EffectOutcome> => {
    // The AdmissionRule's pattern, checked again: a slot came free while someone waited (or an older event, unmarked).
    if (!freesSlot(event) || (event.data as { admitNext?: boolean }).admitNext === false) return 'skipped';
    const { woken } = await admission.admit(event.tenantId, 1);
    return woken > 0 ? 'applied' : 'skipped';
  };
}
