import { describe, expect, it } from 'vitest';
import { jobEvent, workerEvent, type EventEnvelope, type JobEventType, type WorkerEventType } from '../../functions/core/events.ts';
import { describeFailure } from '../../functions/core/failure-reasons.ts';
import { describeProvisioningFailure } from '../../functions/core/fleet/provisioning-failures.ts';
import type { JobRecord } from '../../functions/core/job.ts';
import { observationsOfEvent, type MetricObservation } from '../../functions/core/platform-metrics.ts';
import { PLATFORM_METRICS } from '../../functions/declarations/metrics.ts';
import { sampleJob } from '../support/events.ts';

const CREATED = '2026-03-01T10:00:00.000Z';
const context = (time: string) => ({ time, correlationId: 'c' });
const result = { exitCode: 0, durationMs: 4_200, outputTail: '' };
const failure = describeFailure('NON_ZERO_EXIT_CODE', 'exit 2');

function job(overrides: Partial<JobRecord> = {}): JobRecord {
  return { ...sampleJob(), workerClass: 'gpu', priority: 'high', createdAt: CREATED, ...overrides };
}

const at = (type: JobEventType, time: string, extra: object, overrides: Partial<JobRecord> = {}) =>
  jobEvent(type, job(overrides), null, extra as never, context(time)) as EventEnvelope;

const worker = (type: WorkerEventType, extra: object) =>
  workerEvent(type, { workerId: 'wkr_1', class: 'gpu', state: 'READY' }, 'BOOTING', extra as never, context('2026-03-01T10:05:00.000Z')) as EventEnvelope;

/** The same event as one written before job events carried `createdAt`. */
function withoutCreatedAt(event: EventEnvelope): EventEnvelope {
  const { createdAt: _createdAt, ...data } = event.data as Record<string, unknown>;
  return { ...event, data } as EventEnvelope;
}

const names = (observations: MetricObservation[]) => observations.map((o) => o.metric);

describe('Function: observationsOfEvent', () => {
  it('counts a submission, not an explicit retry, by class and priority', () => {
    const submitted = at('JobQueued', CREATED, { reason: 'submitted', timeoutSeconds: 60, maxAttempts: 3 });
    const retried = at('JobQueued', CREATED, { reason: 'retried', timeoutSeconds: 60, maxAttempts: 3 }, { run: 2 });

    expect(observationsOfEvent(submitted)).toEqual([{ metric: 'JobsSubmitted', value: 1, dimensions: { WorkerClass: 'gpu', Priority: 'high' } }]);
    expect(observationsOfEvent(retried)).toEqual([]);
  });

  it('measures the queue wait of the first attempt of the first run only, from submission to start', () => {
    const first = at('JobRunning', '2026-03-01T10:00:07.500Z', { workerId: 'w' }, { run: 1, attempts: 1, status: 'RUNNING' });
    const secondAttempt = at('JobRunning', '2026-03-01T10:09:00.000Z', { workerId: 'w' }, { run: 1, attempts: 2, status: 'RUNNING' });
    const secondRun = at('JobRunning', '2026-03-01T11:00:00.000Z', { workerId: 'w' }, { run: 2, attempts: 1, status: 'RUNNING' });

    expect(observationsOfEvent(first)).toEqual([
      { metric: 'JobsStarted', value: 1, dimensions: { WorkerClass: 'gpu', Priority: 'high' } },
      { metric: 'QueueWaitTime', value: 7_500, dimensions: { WorkerClass: 'gpu', Priority: 'high' } },
    ]);
    // A retry waited for its backoff, not in the queue: counting it would inflate the figure.
    expect(names(observationsOfEvent(secondAttempt))).toEqual(['JobsStarted']);
    expect(names(observationsOfEvent(secondRun))).toEqual(['JobsStarted']);
  });

  it('gives a success its count, its run duration and its end-to-end latency', () => {
    const succeeded = at('JobSucceeded', '2026-03-01T10:01:00.000Z', { result }, { status: 'SUCCEEDED', attempts: 1 });

    expect(observationsOfEvent(succeeded)).toEqual([
      { metric: 'JobsSucceeded', value: 1, dimensions: { WorkerClass: 'gpu', Priority: 'high' } },
      { metric: 'RunDuration', value: 4_200, dimensions: { WorkerClass: 'gpu' } },
      { metric: 'EndToEndLatency', value: 60_000, dimensions: { WorkerClass: 'gpu', Priority: 'high' } },
    ]);
  });

  it('counts failures, retries and dead letters by reason, with the run duration when the command ran', () => {
    const failedAfterRun = at('JobFailed', CREATED, { failure, result: { ...result, exitCode: 2 } }, { status: 'FAILED' });
    const failedBeforeRun = at('JobFailed', CREATED, { failure: describeFailure('VALIDATION_ERROR', 'bad') }, { status: 'FAILED' });
    const retry = at('JobRetryScheduled', CREATED, { failure, delaySeconds: 4 }, { status: 'RETRY_SCHEDULED' });
    const dead = at('JobDeadLettered', CREATED, { failure }, { status: 'DEAD_LETTERED' });

    expect(observationsOfEvent(failedAfterRun)).toEqual([
      { metric: 'JobsFailed', value: 1, dimensions: { WorkerClass: 'gpu', Reason: 'NON_ZERO_EXIT_CODE' } },
      { metric: 'RunDuration', value: 4_200, dimensions: { WorkerClass: 'gpu' } },
    ]);
    expect(observationsOfEvent(failedBeforeRun)).toEqual([{ metric: 'JobsFailed', value: 1, dimensions: { WorkerClass: 'gpu', Reason: 'VALIDATION_ERROR' } }]);
    expect(observationsOfEvent(retry)).toEqual([{ metric: 'JobsRetried', value: 1, dimensions: { WorkerClass: 'gpu', Reason: 'NON_ZERO_EXIT_CODE' } }]);
    expect(observationsOfEvent(dead)).toEqual([{ metric: 'JobsDeadLettered', value: 1, dimensions: { WorkerClass: 'gpu', Reason: 'NON_ZERO_EXIT_CODE' } }]);
  });

  it('counts a cancellation by class', () => {
    const cancelled = at('JobCancelled', CREATED, { cancelledBy: 'alice' }, { status: 'CANCELLED' });
    expect(observationsOfEvent(cancelled)).toEqual([{ metric: 'JobsCancelled', value: 1, dimensions: { WorkerClass: 'gpu' } }]);
  });

  it("counts the fleet's provisionings, their failures by reason and threshold alerts by metric", () => {
    const ready = worker('WorkerReady', {});
    const failed = worker('WorkerProvisioningFailed', { failure: describeProvisioningFailure('INSUFFICIENT_CAPACITY', 'none left') });
    const alert = worker('WorkerThresholdExceeded', { metric: 'cpu', value: 97, threshold: 90, since: CREATED });

    expect(observationsOfEvent(ready)).toEqual([{ metric: 'WorkersProvisioned', value: 1, dimensions: { WorkerClass: 'gpu' } }]);
    expect(observationsOfEvent(failed)).toEqual([{ metric: 'WorkerProvisioningFailures', value: 1, dimensions: { WorkerClass: 'gpu', Reason: 'INSUFFICIENT_CAPACITY' } }]);
    expect(observationsOfEvent(alert)).toEqual([{ metric: 'WorkerThresholdAlerts', value: 1, dimensions: { WorkerClass: 'gpu', Metric: 'cpu' } }]);
  });

  it('gives nothing for events that are no outcome', () => {
    const dispatched = at('JobDispatched', CREATED, {}, { status: 'DISPATCHED' });
    const cancelRequested = at('JobCancelRequested', CREATED, { requestedBy: 'alice' });
    const draining = worker('WorkerDraining', { reason: 'scale-in', releaseJobs: false });

    for (const event of [dispatched, cancelRequested, draining]) expect(observationsOfEvent(event)).toEqual([]);
  });

  it('yields no latency figure for an event without createdAt, never a wrong one', () => {
    const running = withoutCreatedAt(at('JobRunning', '2026-03-01T10:00:07.500Z', { workerId: 'w' }, { run: 1, attempts: 1, status: 'RUNNING' }));
    const succeeded = withoutCreatedAt(at('JobSucceeded', '2026-03-01T10:01:00.000Z', { result }, { status: 'SUCCEEDED' }));

    expect(names(observationsOfEvent(running))).toEqual(['JobsStarted']);
    expect(names(observationsOfEvent(succeeded))).toEqual(['JobsSucceeded', 'RunDuration']);
  });

  it('reads a clock that ran backwards as no wait rather than a negative one', () => {
    const running = at('JobRunning', '2026-03-01T09:59:59.000Z', { workerId: 'w' }, { run: 1, attempts: 1, status: 'RUNNING' });
    expect(observationsOfEvent(running).find((o) => o.metric === 'QueueWaitTime')?.value).toBe(0);
  });

  it('gives every observation exactly its declared dimension set, without job or tenant ids', () => {
    const events = [
      at('JobQueued', CREATED, { reason: 'submitted', timeoutSeconds: 60, maxAttempts: 3 }),
      at('JobRunning', '2026-03-01T10:00:01.000Z', { workerId: 'w' }, { run: 1, attempts: 1, status: 'RUNNING' }),
      at('JobSucceeded', '2026-03-01T10:01:00.000Z', { result }, { status: 'SUCCEEDED' }),
      at('JobFailed', CREATED, { failure, result }, { status: 'FAILED' }),
      at('JobRetryScheduled', CREATED, { failure, delaySeconds: 4 }),
      at('JobDeadLettered', CREATED, { failure }),
      at('JobCancelled', CREATED, { cancelledBy: 'alice' }),
      worker('WorkerReady', {}),
      worker('WorkerProvisioningFailed', { failure: describeProvisioningFailure('AMI_NOT_FOUND', 'gone') }),
      worker('WorkerThresholdExceeded', { metric: 'memory', value: 95, threshold: 90, since: CREATED }),
    ];
    const observations = events.flatMap(observationsOfEvent);

    expect(new Set(names(observations))).toEqual(new Set([
      'JobsSubmitted', 'JobsStarted', 'QueueWaitTime', 'JobsSucceeded', 'RunDuration', 'EndToEndLatency', 'JobsFailed', 'JobsRetried',
      'JobsDeadLettered', 'JobsCancelled', 'WorkersProvisioned', 'WorkerProvisioningFailures', 'WorkerThresholdAlerts',
    ]));
    for (const { metric, value, dimensions } of observations) {
      expect(Object.keys(dimensions).sort(), metric).toEqual([...PLATFORM_METRICS[metric].dimensions].sort());
      expect(Object.values(dimensions).every((v) => v !== '' && v !== 'undefined'), metric).toBe(true);
      expect(Number.isFinite(value), metric).toBe(true);
    }
    const values = observations.flatMap((o) => Object.values(o.dimensions));
    expect(values).not.toContain(events[0]!.subject);
    expect(values).not.toContain(events[0]!.tenantId);
  });
});
