/**
 * A job's saga as a timeline: its events (GET /v1/jobs/{id}/events, in order) with the time each step took. Pure,
 * so the arithmetic is unit-tested apart from the page.
 */
export interface TimelineEvent {
  id: string;
  type: string;
  time: string;
  data: Record<string, unknown>;
}

export interface TimelineEntry {
  id: string;
  type: string;
  time: string;
  /** The job's status after this event. */
  status?: string;
  run?: number;
  attempts?: number;
  /** What happened, in words: the worker, the exit code, the failure reason, the backoff. */
  detail: string;
  /** Milliseconds since the first event. */
  sinceStart: number;
  /** Milliseconds since the event before; null for the first. */
  sincePrevious: number | null;
}

/** A stretch of time the job spent in one status, between two events (or from the last event until `now`). */
export interface Phase {
  status: string;
  startMs: number;
  durationMs: number;
  /** The last phase of a job that has not ended: it is still growing. */
  open: boolean;
}

const text = (value: unknown) => (typeof value === 'string' ? value : undefined);

function detailOf(event: TimelineEvent): string {
  const data = event.data;
  const failure = data.failure as { reason?: string; message?: string } | undefined;
  const result = data.result as { exitCode?: number | null; durationMs?: number } | undefined;
  switch (event.type) {
    case 'JobQueued':
      return data.reason === 'retried' ? 'queued again by a retry (new run)' : 'submitted';
    case 'JobDispatched':
      return 'claimed by the saga and sent to a worker queue';
    case 'JobRunning':
      return `running on ${text(data.workerId) ?? 'a worker'}`;
    case 'JobSucceeded':
      return `exit ${result?.exitCode ?? '–'}${result?.durationMs === undefined ? '' : ` after ${result.durationMs} ms`}`;
    case 'JobRetryScheduled':
      return `${failure?.reason ?? 'failed'}: retry in ${String(data.delaySeconds ?? '?')} s`;
    case 'JobFailed':
    case 'JobDeadLettered':
      return `${failure?.reason ?? 'failed'}${failure?.message ? `: ${failure.message}` : ''}`;
    case 'JobCancelRequested':
      return `cancel requested by ${text(data.requestedBy) ?? 'someone'}`;
    case 'JobCancelled':
      return `cancelled by ${text(data.cancelledBy) ?? 'someone'}`;
    default:
      return '';
  }
}

export function timelineOf(events: readonly TimelineEvent[]): TimelineEntry[] {
  const start = events.length ? Date.parse(events[0]!.time) : 0;
  return events.map((event, index) => {
    const at = Date.parse(event.time);
    const previous = index > 0 ? Date.parse(events[index - 1]!.time) : undefined;
    const status = text(event.data.status);
    return {
      id: event.id,
      type: event.type,
      time: event.time,
      ...(status ? { status } : {}),
      ...(typeof event.data.run === 'number' ? { run: event.data.run } : {}),
      ...(typeof event.data.attempts === 'number' ? { attempts: event.data.attempts } : {}),
      detail: detailOf(event),
      sinceStart: at - start,
      sincePrevious: previous === undefined ? null : at - previous,
    };
  });
}

/**
 * The statuses the job passed through and for how long. An event that leaves the status as it was (a cancel
 * request) does not start a phase. While the job has not ended, its last phase runs until `now`.
 */
export function phasesOf(entries: readonly TimelineEntry[], ended: boolean, now: number): Phase[] {
  const phases: Phase[] = [];
  const start = entries.length ? Date.parse(entries[0]!.time) : now;
  for (const entry of entries) {
    if (!entry.status || phases.at(-1)?.status === entry.status) continue;
    phases.push({ status: entry.status, startMs: entry.sinceStart, durationMs: 0, open: false });
  }
  const end = ended && entries.length ? entries.at(-1)!.sinceStart : now - start;
  phases.forEach((phase, index) => {
    const next = phases[index + 1];
    phase.durationMs = Math.max(0, (next ? next.startMs : end) - phase.startMs);
    phase.open = !next && !ended;
  });
  // The terminal status is where the job stays: a point, not a stretch.
  return ended ? phases.filter((phase, index) => index < phases.length - 1 || phase.durationMs > 0) : phases;
}
