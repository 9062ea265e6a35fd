import { describe, expect, it } from 'vitest';
import { jobEvent, workerEvent, type EventEnvelope, type JobEventType } from '../../functions/core/events.ts';
import type { JobFailure } from '../../functions/core/failure-reasons.ts';
import type { JobStatus } from '../../functions/core/job-status.ts';
import { formatDuration, formatJobLine, formatJobRecord, jobEventOf, shortJobId, type JobEvent } from '../../local/job-lines.ts';
import { ANSI_PATTERN } from '../../local/terminal-style.ts';
import { sampleJob } from '../support/events.ts';

const TIME = '2026-11-30T19:52:03.000Z';
const JOB = 'job_0123456789abcdef0123456789abcdef';
const failure = (reason: JobFailure['reason'], message: string): JobFailure => ({ reason, message, category: 'user', retryable: true, suggestedActions: [] });

/** A job event as the platform emits it: the job in `status` after the change, with `attempts` and `run`. */
function eventOf<T extends JobEventType>(type: T, status: JobStatus, previous: JobStatus | null, extra: Parameters<typeof jobEvent<T>>[3], job: { attempts?: number; run?: number } = {}): JobEvent {
  const record = { ...sampleJob(JOB), status, attempts: job.attempts ?? 1, run: job.run ?? 1 };
  return jobEvent(type, record, previous, extra, { time: TIME, correlationId: 'c' }) as JobEvent;
}

const line = (event: JobEvent) => formatJobLine(event, { color: false, timeZone: 'UTC' });

describe('Local: a job state change as one line', () => {
  it.each([
    ['submitted', eventOf('JobQueued', 'QUEUED', null, { reason: 'submitted', timeoutSeconds: 60, maxAttempts: 3 }, { attempts: 0 }), '19:52:03  job_01234567…  → QUEUED  medium priority, class default'],
    ['retried', eventOf('JobQueued', 'QUEUED', 'FAILED', { reason: 'retried', timeoutSeconds: 60, maxAttempts: 3 }, { attempts: 0, run: 2 }), '19:52:03  job_01234567…  FAILED → QUEUED  retried (run 2)'],
    ['dispatched', eventOf('JobDispatched', 'DISPATCHED', 'QUEUED', {}, { attempts: 2 }), '19:52:03  job_01234567…  QUEUED → DISPATCHED  (attempt 2)'],
    ['running', eventOf('JobRunning', 'RUNNING', 'DISPATCHED', { workerId: 'w-01abc' }), '19:52:03  job_01234567…  DISPATCHED → RUNNING  on w-01abc  (attempt 1)'],
    ['succeeded', eventOf('JobSucceeded', 'SUCCEEDED', 'RUNNING', { result: { exitCode: 0, durationMs: 40, outputTail: 'hello' } }), '19:52:03  job_01234567…  RUNNING → SUCCEEDED  exit 0 in 40 ms'],
    [
      'retry scheduled',
      eventOf('JobRetryScheduled', 'RETRY_SCHEDULED', 'RUNNING', { failure: failure('NON_ZERO_EXIT_CODE', 'The command exited with code 1.'), delaySeconds: 4 }),
      '19:52:03  job_01234567…  RUNNING → RETRY_SCHEDULED  NON_ZERO_EXIT_CODE: The command exited with code 1.; retry in 4 s',
    ],
    [
      'failed, with its result and only the first line of a long message',
      eventOf('JobFailed', 'FAILED', 'RUNNING', { failure: failure('COMMAND_NOT_FOUND', 'sh: nope: not found\nsecond line'), result: { exitCode: 127, durationMs: 2500, outputTail: '' } }),
      '19:52:03  job_01234567…  RUNNING → FAILED  COMMAND_NOT_FOUND: sh: nope: not found (exit 127 in 2.5 s)',
    ],
    [
      'dead-lettered',
      eventOf('JobDeadLettered', 'DEAD_LETTERED', 'RUNNING', { failure: failure('WORKER_LOST', 'The worker stopped answering.') }, { attempts: 3 }),
      '19:52:03  job_01234567…  RUNNING → DEAD_LETTERED  WORKER_LOST: The worker stopped answering.; gave up after 3 attempt(s)',
    ],
    ['cancel requested (no change of status)', eventOf('JobCancelRequested', 'RUNNING', 'RUNNING', { requestedBy: 'alice' }), '19:52:03  job_01234567…  RUNNING  cancel requested by alice'],
    ['cancelled', eventOf('JobCancelled', 'CANCELLED', 'QUEUED', { cancelledBy: 'alice' }), '19:52:03  job_01234567…  QUEUED → CANCELLED  by alice'],
  ])('%s', (_name, event, expected) => {
    expect(line(event)).toBe(expected);
  });

  it('colours the status only when asked to', () => {
    const event = eventOf('JobSucceeded', 'SUCCEEDED', 'RUNNING', { result: { exitCode: 0, durationMs: 40, outputTail: '' } });

    expect(formatJobLine(event, { color: true, timeZone: 'UTC' })).toMatch(ANSI_PATTERN);
    expect(formatJobLine(event, { color: true, timeZone: 'UTC' })).toContain('\u001b[32mSUCCEEDED\u001b[39m');
    expect(formatJobLine(event, { color: false, timeZone: 'UTC' })).not.toMatch(ANSI_PATTERN);
  });

  it('as a JSON record for LOG_FORMAT=json: the change, the attempt and the outcome', () => {
    const event = eventOf('JobFailed', 'FAILED', 'RUNNING', { failure: failure('COMMAND_NOT_FOUND', 'm'), result: { exitCode: 127, durationMs: 12, outputTail: '' } });

    expect(JSON.parse(formatJobRecord(event))).toEqual({
      level: 'INFO',
      message: 'job state changed',
      timestamp: TIME,
      service: 'forgeflow-local',
      eventId: event.id,
      type: 'JobFailed',
      jobId: JOB,
      tenantId: 'acme',
      from: 'RUNNING',
      to: 'FAILED',
      attempt: 1,
      exitCode: 127,
      durationMs: 12,
      reason: 'COMMAND_NOT_FOUND',
    });
  });

  it('takes job events from the bus and nothing else', () => {
    const job = eventOf('JobDispatched', 'DISPATCHED', 'QUEUED', {});
    const worker: EventEnvelope = workerEvent('WorkerReady', { workerId: 'w-1', class: 'default', state: 'READY' }, 'PROVISIONING', {}, { time: TIME, correlationId: 'c' });

    expect(jobEventOf(JSON.parse(JSON.stringify(job)))?.id).toBe(job.id);
    expect(jobEventOf(worker)).toBeUndefined();
    expect(jobEventOf({ id: 'x', type: 'Something' })).toBeUndefined();
    expect(jobEventOf(null)).toBeUndefined();
  });

  it('shortens ids and durations for reading', () => {
    expect(shortJobId(JOB)).toBe('job_01234567…');
    expect(shortJobId('job_1')).toBe('job_1');
    expect([formatDuration(40), formatDuration(4000), formatDuration(2500), formatDuration(185_000)]).toEqual(['40 ms', '4 s', '2.5 s', '3 min 5 s']);
  });
});
