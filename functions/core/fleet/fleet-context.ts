import type { ResolvedWorkerClass } from '../../declarations/worker-classes.ts';
import type { EventContext } from '../events.ts';
import type { Clock } from '../ports.ts';
import { workerEvent, type WorkerEventExtra, type WorkerEventType } from '../events.ts';
import { WorkerConflictError } from './errors.ts';
import type { FleetMove, WorkerChange, WorkerStore } from './ports.ts';
import type { WorkerRecord } from './worker.ts';
import { activeDelta, assertWorkerTransition, type WorkerState } from './worker-state.ts';

/** Looks a declared class up, resolved for the runtime (AWS or local); throws UnknownClassError for others. */
export type ClassLookup = (name: string) => ResolvedWorkerClass;

/** How often a worker change re-reads and decides again after losing a race to another writer. */
const MAX_CONFLICT_RETRIES = 5;

/**
 * What every fleet use case shares: the store, the clock, and the one way a worker changes state, a transition
 * guarded by the table, committed with its event and the class's active count.
 */
export class FleetContext {
  constructor(
    readonly store: WorkerStore,
    readonly clock: Clock,
    readonly classes: ClassLookup,
  ) {}

  now(): string {
    return this.clock.now().toISOString();
  }

  eventContext(correlationId: string): EventContext {
    return { time: this.now(), correlationId };
  }

  /** The worker moved to `state` (and `changes`), with its version bumped. */
  next(worker: WorkerRecord, state: WorkerState, changes: Partial<WorkerRecord> = {}): WorkerRecord {
    return { ...worker, ...changes, state, version: worker.version + 1, updatedAt: this.now() };
  }

  /** Commits current → next with the event of `type`; `bound` adds a condition on the class's active count. */
  async transition<T extends WorkerEventType>(
    current: WorkerRecord,
    next: WorkerRecord,
    type: T,
    extra: WorkerEventExtra<T>,
    correlationId: string,
    bound: Omit<FleetMove, 'class' | 'delta'> = {},
  ): Promise<WorkerRecord> {
    assertWorkerTransition(current.state, next.state, current.workerId);
    const change: WorkerChange = {
      worker: next,
      expected: { state: current.state, version: current.version },
      event: workerEvent(type, next, current.state, extra, this.eventContext(correlationId)),
      fleet: { class: current.class, delta: activeDelta(current.state, next.state), ...bound },
    };
    await this.store.commit(change);
    return next;
  }

  /** Reads, decides and writes; when another writer got there first, reads again and decides again. */
  async mutate<T>(workerId: string, missing: () => Error, decide: (worker: WorkerRecord) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const worker = await this.store.get(workerId);
      if (!worker) throw missing();
      try {
        return await decide(worker);
      } catch (error) {
        if (!(error instanceof WorkerConflictError) || attempt >= MAX_CONFLICT_RETRIES) throw error;
      }
    }
  }
}
