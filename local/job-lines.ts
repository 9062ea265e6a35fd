import { EVENT_SOURCE, parseEvent, type EventData, type EventEnvelope, type JobEventType } from '../functions/core/events.ts';
import type { JobStatus } from '../functions/core/job-status.ts';
import { clockTime, oneLine, painter, type Colour, type Paint } from './terminal-style.ts';

/** A job event, as the bus carries it (functions/core/events.ts). */
export type JobEvent = EventEnvelope<JobEventType>;

export interface JobLineOptions {
  color: boolean;
  /** For tests; absent: the machine's time zone. */
  timeZone?: string;
}

const STATUS_COLOURS: Partial<Record<JobStatus, Colour>> = { SUCCEEDED: 'green', FAILED: 'red', DEAD_LETTERED: 'red', RETRY_SCHEDULED: 'yellow', CANCELLED: 'yellow' };

/** `job_1293de3c…`: job ids are random after their prefix, so twelve characters tell jobs apart on one screen. */
export const shortJobId = (jobId: string) => (jobId.length > 13 ? `${jobId.slice(0, 12)}…` : jobId);

/** `40 ms`, `2.5 s`, `3 min 5 s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${ms % 1000 === 0 ? ms / 1000 : (ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

type Failure = EventData<'JobFailed'>['failure'];
type Result = EventData<'JobSucceeded'>['result'];
const failureText = (failure: Failure) => `${failure.reason}: ${oneLine(failure.message, 80)}`;
const resultText = (result: Result) => `exit ${result.exitCode ?? '-'} in ${formatDuration(result.durationMs)}`;

/** What follows the transition on the line, per event type. */
function detailsOf(event: JobEvent): string {
  switch (event.type) {
    case 'JobQueued': {
      const data = event.data as EventData<'JobQueued'>;
      return data.reason === 'retried' ? `retried (run ${data.run})` : `${data.priority} priority, class ${data.workerClass}`;
    }
    case 'JobDispatched':
      return `(attempt ${event.data.attempts})`;
    case 'JobRunning':
      return `on ${(event.data as EventData<'JobRunning'>).workerId}  (attempt ${event.data.attempts})`;
    case 'JobSucceeded':
      return resultText((event.data as EventData<'JobSucceeded'>).result);
    case 'JobRetryScheduled': {
      const data = event.data as EventData<'JobRetryScheduled'>;
      return `${failureText(data.failure)}; retry in ${formatDuration(data.delaySeconds * 1000)}`;
    }
    case 'JobFailed': {
      const data = event.data as EventData<'JobFailed'>;
      return data.result ? `${failureText(data.failure)} (${resultText(data.result)})` : failureText(data.failure);
    }
    case 'JobDeadLettered': {
      const data = event.data as EventData<'JobDeadLettered'>;
      return `${failureText(data.failure)}; gave up after ${data.attempts} attempt(s)`;
    }
    case 'JobCancelRequested':
      return `cancel requested by ${(event.data as EventData<'JobCancelRequested'>).requestedBy}`;
    case 'JobCancelled':
      return `by ${(event.data as EventData<'JobCancelled'>).cancelledBy}`;
  }
}

/** `from → TO`, or only the status for an event that changes none (a cancel request). */
function transitionOf(event: JobEvent, paint: Paint): string {
  const { status, previousStatus } = event.data;
  const to = STATUS_COLOURS[status] ? paint(STATUS_COLOURS[status], status) : status;
  if (event.type === 'JobCancelRequested') return to;
  return previousStatus ? `${previousStatus} → ${to}` : `→ ${to}`;
}

/** One line a person reads: `19:52:03  job_8f3a1c2e…  DISPATCHED → RUNNING  on w-01…  (attempt 1)`. */
export function formatJobLine(event: JobEvent, options: JobLineOptions): string {
  const paint = painter(options.color);
  return [paint('dim', clockTime(event.time, options.timeZone)), paint('cyan', shortJobId(event.data.jobId)), transitionOf(event, paint), detailsOf(event)].join('  ');
}

/** The same change as a structured line (LOG_FORMAT=json), shaped like the handlers' Powertools lines. */
export function formatJobRecord(event: JobEvent): string {
  const data = event.data as Partial<EventData<'JobFailed'> & EventData<'JobRunning'>>;
  return JSON.stringify({
    level: 'INFO',
    message: 'job state changed',
    timestamp: event.time,
    service: 'forgeflow-local',
    eventId: event.id,
    type: event.type,
    jobId: event.data.jobId,
    tenantId: event.tenantId,
    from: event.data.previousStatus,
    to: event.data.status,
    attempt: event.data.attempts,
    ...(data.workerId ? { workerId: data.workerId } : {}),
    ...(data.result ? { exitCode: data.result.exitCode, durationMs: data.result.durationMs } : {}),
    ...(data.failure ? { reason: data.failure.reason } : {}),
  });
}

/** A job event's envelope, or undefined for anything else on the bus (worker events, unknown shapes). */
export function jobEventOf(detail: unknown): JobEvent | undefined {
  try {
    const event = parseEvent(detail);
    return event.source === EVENT_SOURCE ? (event as JobEvent) : undefined;
  } catch {
    return undefined;
  }
}
