import { isTerminal, JobStatus } from '../functions/core/job-status.ts';
import type { LocalEventBus } from './event-bus.ts';
import { formatJobLine, formatJobRecord, jobEventOf, type JobEvent } from './job-lines.ts';
import { SeenIds } from './prometheus.ts';
import type { LogFormat } from './terminal-style.ts';

export interface JobFollowerOptions {
  format: LogFormat;
  color: boolean;
  /** Where each line goes (stdout in `npm start`). */
  write: (line: string) => void;
  timeZone?: string;
  /** Event ids remembered for dedupe; see SeenIds. */
  seenCapacity?: number;
}

export interface JobFollower {
  /**
   * Takes a bus entry's detail: prints it once if it is a job event not seen yet (at once, or after its job's start);
   * returns whether it took it.
   */
  handle(detail: unknown): boolean;
  /** The job's first terminal event seen (now or earlier), or undefined after `timeoutMs`. */
  waitForEnd(jobId: string, timeoutMs: number): Promise<JobEvent | undefined>;
  /** Detaches from the bus; pending waits resolve undefined. */
  stop(): void;
}

/** How many ended jobs waitForEnd remembers, for a wait that starts after its job already ended. */
const ENDED_CAPACITY = 1000;

/** How long an event that came before its job's start is held for the start's line (see `followJobEvents`). */
export const START_HOLD_MS = 1000;

/**
 * One line per job state change, from the events the local bus accepts: the same events the relay publishes from
 * the outbox, so nothing polls. The API's optimistic publish and the relay both publish an event, and a retried
 * publish is accepted again, so lines are deduplicated by the event's own id (the bus's entry ids differ).
 *
 * A job's start (`JobRunning`) reaches the bus from the jobs table's stream, its other events from the outbox's
 * (decision 0022), so a short command's end can arrive first. An event that moves a job from RUNNING while its last
 * line still says DISPATCHED waits, for up to START_HOLD_MS, for the start's line, and then follows it.
 */
export function followJobEvents(bus: Pick<LocalEventBus, 'onPublished'> | undefined, options: JobFollowerOptions): JobFollower {
  const seen = new SeenIds(options.seenCapacity);
  const ended = new Map<string, JobEvent>();
  const waiters = new Map<string, Set<(event: JobEvent | undefined) => void>>();
  const lastStatus = new Map<string, string>();
  const held = new Map<string, { events: JobEvent[]; timer: ReturnType<typeof setTimeout> }>();

  const remember = (event: JobEvent) => {
    if (ended.has(event.data.jobId)) return;
    ended.set(event.data.jobId, event);
    // Maps iterate in insertion order: the first key is the oldest.
    if (ended.size > ENDED_CAPACITY) ended.delete(ended.keys().next().value!);
    for (const resolve of waiters.get(event.data.jobId) ?? []) resolve(event);
    waiters.delete(event.data.jobId);
  };

  const release = (jobId: string) => {
    const entry = held.get(jobId);
    if (!entry) return;
    clearTimeout(entry.timer);
    held.delete(jobId);
    for (const event of entry.events.sort((a, b) => (a.id < b.id ? -1 : 1))) print(event);
  };

  const print = (event: JobEvent) => {
    const { jobId, status } = event.data;
    options.write(options.format === 'json' ? formatJobRecord(event) : formatJobLine(event, options));
    lastStatus.delete(jobId);
    if (isTerminal(status)) remember(event);
    else lastStatus.set(jobId, status);
    // Maps iterate in insertion order: the first key is the job heard of longest ago.
    if (lastStatus.size > ENDED_CAPACITY) lastStatus.delete(lastStatus.keys().next().value!);
    if (status === JobStatus.RUNNING) release(jobId);
  };

  const hold = (event: JobEvent) => {
    const { jobId } = event.data;
    const entry = held.get(jobId) ?? { events: [], timer: setTimeout(() => release(jobId), START_HOLD_MS) };
    entry.events.push(event);
    held.set(jobId, entry);
  };

  const handle = (detail: unknown): boolean => {
    const id = (detail as { id?: unknown } | null | undefined)?.id;
    if (typeof id !== 'string' || seen.has(id)) return false;
    const event = jobEventOf(detail);
    if (!event) return false;
    seen.add(id);
    if (lastStatus.get(event.data.jobId) === JobStatus.DISPATCHED && event.data.previousStatus === JobStatus.RUNNING) hold(event);
    else print(event);
    return true;
  };

  const detach = bus?.onPublished((entry) => void handle(entry.detail));
  return {
    handle,
    waitForEnd: (jobId, timeoutMs) => {
      const known = ended.get(jobId);
      if (known) return Promise.resolve(known);
      return new Promise((resolve) => {
        const timer = setTimeout(() => settle(undefined), timeoutMs);
        const settle = (event: JobEvent | undefined) => {
          clearTimeout(timer);
          waiters.get(jobId)?.delete(settle);
          resolve(event);
        };
        waiters.set(jobId, (waiters.get(jobId) ?? new Set()).add(settle));
      });
    },
    stop: () => {
      detach?.();
      for (const jobId of [...held.keys()]) release(jobId);
      for (const settles of [...waiters.values()]) for (const settle of [...settles]) settle(undefined);
      waiters.clear();
    },
  };
}
