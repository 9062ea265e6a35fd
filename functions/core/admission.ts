import { DomainError } from './errors.ts';
import { JobStatus } from './job-status.ts';
import type { JobRecord } from './job.ts';
import type { JobStore } from './ports.ts';
import { PRIORITIES } from './priority.ts';
import { DEFAULT_TENANT_SLOT_LIMIT } from './saga.ts';

/** A job run parked until its tenant has a free slot; its saga waits on `taskToken` (WaitForSlot). */
export interface WaitingRun {
  tenantId: string;
  /** Priority rank, then the job's creation time, then its id: the order admissions follow. */
  waitKey: string;
  jobId: string;
  run: number;
  taskToken: string;
}

export interface WaitingJobs {
  /**
   * Parks the run, on the condition (checked in the same write) that the tenant's slots are all still in use:
   * 'slot-free' when one was freed meanwhile (then nobody would wake it: it must claim again at once).
   */
  park(entry: WaitingRun, limit: number): Promise<'parked' | 'slot-free'>;
  /** The tenant's first waiting runs in admission order, strongly consistent. */
  first(tenantId: string, count: number): Promise<WaitingRun[]>;
  /** Removes the entry if it still holds this token (the run may have parked again under the same key). */
  remove(entry: Pick<WaitingRun, 'tenantId' | 'waitKey' | 'taskToken'>): Promise<void>;
}

/** Answers a parked saga's token: 'over' when that wait already ended (answered, timed out, execution stopped). */
export interface SlotWaits {
  wake(taskToken: string): Promise<'woken' | 'over'>;
}

/** WaitForSlot's answer when there is nothing to wait for: the saga goes back to ClaimJob at once. */
export class NoWaitNeededError extends DomainError {
  override name = 'NoWaitNeeded';
  readonly code = 'NO_WAIT_NEEDED';
  override readonly retryable = false;
}

/** Ranks sort as strings: critical first. */
export const waitKeyOf = (job: Pick<JobRecord, 'priority' | 'createdAt' | 'jobId'>) => `${PRIORITIES.indexOf(job.priority)}#${job.createdAt}#${job.jobId}`;

/** How many parked runs one admission looks at beyond the slots it fills (stale entries of cancelled jobs). */
const LOOKAHEAD = 10;

/**
 * Admission instead of polling: a job run that finds its tenant's slots all taken parks (WaitForSlot) and costs no
 * event and no state transition while it waits. Every freed slot (an event of a job that held one) admits the
 * tenant's first waiting run, in priority-then-FIFO order, by answering its saga's task token; the saga then claims.
 * A run woken while another claim took the slot parks again under the same key, so it keeps its place.
 */
export class AdmissionService {
  constructor(
    private readonly deps: { store: Pick<JobStore, 'get'>; waiting: WaitingJobs; waits?: SlotWaits; tenantSlotLimit?: (tenantId: string) => number },
  ) {}

  /** ParkJob: the saga's WaitForSlot state hands its token here. Throws NoWaitNeeded when it should claim now. */
  async park(input: { jobId: string; run: number; taskToken: string }): Promise<{ parked: true; waitKey: string }> {
    const job = await this.deps.store.get(input.jobId);
    if (!job || job.run !== input.run || (job.status !== JobStatus.QUEUED && job.status !== JobStatus.RETRY_SCHEDULED)) {
      throw new NoWaitNeededError(`Job ${input.jobId} run ${input.run} is not waiting for a slot; ClaimJob decides what follows`);
    }
    const limit = this.deps.tenantSlotLimit?.(job.tenantId) ?? DEFAULT_TENANT_SLOT_LIMIT;
    const entry: WaitingRun = { tenantId: job.tenantId, waitKey: waitKeyOf(job), jobId: job.jobId, run: job.run, taskToken: input.taskToken };
    if ((await this.deps.waiting.park(entry, limit)) === 'slot-free') throw new NoWaitNeededError(`A slot of tenant ${job.tenantId} is free again`);
    return { parked: true, waitKey: entry.waitKey };
  }

  /** `freed` slots of the tenant came free: wakes as many waiting runs, skipping (and removing) stale entries. */
  async admit(tenantId: string, freed: number): Promise<{ woken: number; stale: number }> {
    const waits = this.deps.waits;
    if (!waits) throw new Error('AdmissionService was built without SlotWaits; only the admission consumer admits');
    let woken = 0;
    let stale = 0;
    while (woken < freed) {
      const entries = await this.deps.waiting.first(tenantId, freed - woken + LOOKAHEAD);
      if (entries.length === 0) break;
      for (const entry of entries) {
        if (woken >= freed) break;
        // Answer first, then remove: a crash in between leaves an entry whose token is over, skipped next time.
        if ((await waits.wake(entry.taskToken)) === 'woken') woken++;
        else stale++;
        await this.deps.waiting.remove(entry);
      }
    }
    return { woken, stale };
  }
}
