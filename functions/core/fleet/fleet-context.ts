import type { ResolvedWorkerClass } from '../../declarations/worker-classes.ts';
import type { EventContext } from '../events.ts';
import type { Clock } from '../ports.ts';
import { workerEvent, type WorkerEventExtra, type WorkerEventType } from '../events.ts';
import { retryOnConflict } from '../conflict-retry.ts';
import { WorkerConflictError } from './errors.ts';
import type { FleetMove, WorkerChange, WorkerStore } from './ports.ts';
import type { WorkerRecord } from './worker.ts';
import { activeDelta, assertWorkerTransition, type WorkerState } from './worker-state.ts';

/** Looks a declared class up, resolved for the runtime (AWS or local); throws UnknownClassError for others. */
export type ClassLookup = (name: string) => ResolvedWorkerClass;

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
  mutate<T>(workerId: string, missing: () => Error, decide: (worker: WorkerRecord) => Promise<T>): Promise<T> {
    const read = async () => (await this.store.get(workerId)) ?? Promise.reject(missing());
    return retryOnConflict(read, decide, (error) => error instanceof WorkerConflictError);
  }

  /** Every worker of a class in a state, page by page, so a sweep holds one page at a time. */
  async *workers(workerClass: string, state: WorkerState): AsyncGenerator<WorkerRecord> {
    let cursor: string | undefined;
    do {
      const page = await this.store.list({ class: workerClass, state, limit: 100, ...(cursor ? { cursor } : {}) });
      yield* page.items;
      cursor = page.nextCursor;
    } while (cursor);
  }
}
