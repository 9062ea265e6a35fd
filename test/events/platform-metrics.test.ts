import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { claimSpec, type ClaimSpec } from '../../functions/core/claim-spec.ts';
import { OptimisticPublishingStore, type RunStarter } from '../../functions/api/optimistic-publish.ts';
import { jobEvent, type EventEnvelope } from '../../functions/core/events.ts';
import { describeFailure } from '../../functions/core/failure-reasons.ts';
import type { EventPublisher, JobChange, JobStore, PublishOutcome } from '../../functions/core/ports.ts';
import { relayBatch } from '../../functions/relay/relay.ts';
import { emitMetric, emitObservations, InvalidMetricError, metricsRecorder } from '../../functions/shared/platform-metrics.ts';
import { captureEmf, expectDeclared } from '../support/emf.ts';
import { sampleEvent, sampleJob, streamRecord } from '../support/events.ts';

let emf: ReturnType<typeof captureEmf>;
beforeEach(() => {
  emf = captureEmf();
});
afterEach(() => {
  try {
    expectDeclared(emf.metrics());
  } finally {
    emf.restore();
  }
});

const handlerMetrics = () => new Metrics({ namespace: 'ForgeflowTest', serviceName: 'forgeflow-test' });
const values = (name: string) => emf.named(name).flatMap((m) => m.value);

/** A publisher that refuses the events whose ids it is given, or fails the whole call. */
function publisher(refuse: readonly string[] = [], error?: Error): EventPublisher & { published: EventEnvelope[] } {
  const published: EventEnvelope[] = [];
  return {
    published,
    async publish(events): Promise<PublishOutcome> {
      if (error) throw error;
      published.push(...events.filter((e) => !refuse.includes(e.id)));
      return { failed: events.filter((e) => refuse.includes(e.id)).map((e) => ({ eventId: e.id, errorCode: 'InternalFailure', errorMessage: 'x' })) };
    },
  };
}

describe('Function: emitMetric', () => {
  it('emits the declared unit and exactly the declared dimension set, without the handler’s service dimension', () => {
    const metrics = handlerMetrics();
    emitMetric(metrics, 'JobsFailed', 1, { WorkerClass: 'gpu', Reason: 'WORKER_LOST' });
    emitMetric(metrics, 'OutboxLag', 250, {});

    expect(emf.metrics()).toEqual([
      { namespace: 'ForgeflowTest', name: 'JobsFailed', unit: 'Count', value: 1, dimensions: { WorkerClass: 'gpu', Reason: 'WORKER_LOST' } },
      { namespace: 'ForgeflowTest', name: 'OutboxLag', unit: 'Milliseconds', value: 250, dimensions: {} },
    ]);
    // Published at once: nothing waits in the handler's own buffer for a flush that shares its dimensions.
    expect(metrics.hasStoredMetrics()).toBe(false);
  });

  it('serves as the recorder of metrics the domain measures itself, checked the same way', () => {
    const record = metricsRecorder(handlerMetrics());
    record('FleetSize', 3, { WorkerClass: 'gpu', State: 'READY' });

    expect(emf.metrics()).toEqual([expect.objectContaining({ name: 'FleetSize', value: 3, dimensions: { WorkerClass: 'gpu', State: 'READY' } })]);
    expect(() => record('FleetSize', 3, { WorkerClass: 'gpu' })).toThrow(InvalidMetricError);
  });

  it('writes nothing while metrics are disabled, as in the other tests', () => {
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
    emitMetric(handlerMetrics(), 'JobsCancelled', 1, { WorkerClass: 'gpu' });
    expect(emf.documents()).toEqual([]);
  });

  it('lets only declared names with their declared dimensions compile', () => {
    const metrics = handlerMetrics();
    // @ts-expect-error: not a declared metric
    expect(() => emitMetric(metrics, 'JobsExploded', 1, {})).toThrow(InvalidMetricError);
    // @ts-expect-error: JobsFailed is counted by class and reason
    expect(() => emitMetric(metrics, 'JobsFailed', 1, { WorkerClass: 'gpu' })).toThrow(InvalidMetricError);
    // @ts-expect-error: a job id as a dimension would be a billed metric per job
    expect(() => emitMetric(metrics, 'JobsCancelled', 1, { WorkerClass: 'gpu', jobId: 'job_1' })).toThrow(InvalidMetricError);
    // @ts-expect-error: OutboxLag has no dimensions
    expect(() => emitMetric(metrics, 'OutboxLag', 1, { tenantId: 'acme' })).toThrow(InvalidMetricError);
    expect(emf.documents()).toEqual([]);
  });

  it('refuses, at run time, observations off their declaration: an empty dimension value, a value that is no number', () => {
    const metrics = handlerMetrics();
    expect(() => emitObservations(metrics, [{ metric: 'JobsStarted', value: 1, dimensions: { WorkerClass: 'gpu', Priority: '' } }])).toThrow(/no value/);
    expect(() => emitObservations(metrics, [{ metric: 'RunDuration', value: Number.NaN, dimensions: { WorkerClass: 'gpu' } }])).toThrow(/finite/);
    expect(emf.documents()).toEqual([]);
  });

  it('outside the test runner logs a metric off its declaration and drops it, and emits the rest', () => {
    vi.stubEnv('VITEST', '');
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      emitObservations(handlerMetrics(), [
        { metric: 'JobsStarted', value: 1, dimensions: { WorkerClass: 'gpu', Priority: 'high', tenantId: 'acme' } },
        { metric: 'JobsStarted', value: 1, dimensions: { WorkerClass: 'gpu', Priority: 'high' } },
      ]);
      expect(warn).toHaveBeenCalledOnce();
      expect(JSON.parse(String(warn.mock.calls[0]![0]))).toMatchObject({ level: 'WARN', metric: 'JobsStarted', message: expect.stringMatching(/differ from the declared/) });
      expect(emf.metrics()).toEqual([expect.objectContaining({ name: 'JobsStarted', dimensions: { WorkerClass: 'gpu', Priority: 'high' } })]);
    } finally {
      warn.mockRestore();
    }
  });
});

describe('Relay metrics', () => {
  const committed = (ago: number) => {
    const event = sampleEvent(sampleJob(`job_${String(ago).padStart(32, '0')}`));
    return { ...event, time: new Date(Date.now() - ago).toISOString() };
  };

  it('emits OutboxLag per published event, from its commit time to the end of its publish', async () => {
    const [older, newer] = [committed(90_000), committed(1_500)];
    const before = Date.now();
    const errors = await relayBatch([streamRecord(older, '1'), streamRecord(newer, '2')], publisher(), { metrics: handlerMetrics() });
    const after = Date.now();

    expect(errors.size).toBe(0);
    const lags = values('OutboxLag') as number[];
    expect(lags).toHaveLength(2);
    // The lag of an event is publish time − commit time, and the publish happened between `before` and `after`.
    expect(lags[0]).toBeGreaterThanOrEqual(before - Date.parse(older.time));
    expect(lags[0]).toBeLessThanOrEqual(after - Date.parse(older.time));
    expect(lags[1]).toBeGreaterThanOrEqual(before - Date.parse(newer.time));
    expect(lags[1]).toBeLessThanOrEqual(after - Date.parse(newer.time));
    expect(values('EventsRelayed')).toEqual([2]);
    expect(emf.named('RelayFailures')).toEqual([]);
  });

  it('counts refused and poison records as failures, TTL removals as nothing, and gives lag only to what was published', async () => {
    const [good, refused] = [committed(1_000), committed(2_000)];
    const records = [
      streamRecord(good, '1'),
      streamRecord(refused, '2'),
      streamRecord(good, '3', '{"not":"an event"}'),
      { ...streamRecord(good, '4'), eventName: 'REMOVE' as const },
    ];

    const errors = await relayBatch(records, publisher([refused.id]), { metrics: handlerMetrics() });

    expect([...errors.keys()].sort()).toEqual(['2', '3']);
    expect(values('EventsRelayed')).toEqual([1]);
    expect(values('RelayFailures')).toEqual([2]);
    expect(values('OutboxLag')).toHaveLength(1);
  });

  const ended = (n: number, status: 'SUCCEEDED' | 'FAILED') => ({
    ...sampleJob(`job_5${String(n).padStart(31, '0')}`),
    status,
    workerClass: 'gpu',
    priority: 'high' as const,
    attempts: 1,
    createdAt: new Date(Date.now() - 60_000).toISOString(),
  });
  const succeeded = (n: number) => jobEvent('JobSucceeded', ended(n, 'SUCCEEDED'), 'RUNNING', { result: { exitCode: 0, durationMs: 4_321, outputTail: '' } }, { time: new Date().toISOString(), correlationId: 'c' });
  const failed = (n: number) => jobEvent('JobFailed', ended(n, 'FAILED'), 'RUNNING', { failure: describeFailure('WORKER_LOST', 'gone') }, { time: new Date().toISOString(), correlationId: 'c' });

  it('emits what each relayed event stands for: JobsSucceeded by class and priority, RunDuration, latency, JobsFailed by reason', async () => {
    await relayBatch([streamRecord(succeeded(1), '1'), streamRecord(failed(2), '2')], publisher(), { metrics: handlerMetrics() });

    expect(emf.named('JobsSucceeded')).toEqual([expect.objectContaining({ value: 1, dimensions: { WorkerClass: 'gpu', Priority: 'high' } })]);
    expect(emf.named('RunDuration')).toEqual([expect.objectContaining({ value: 4_321, unit: 'Milliseconds', dimensions: { WorkerClass: 'gpu' } })]);
    expect(emf.named('EndToEndLatency')).toEqual([expect.objectContaining({ dimensions: { WorkerClass: 'gpu', Priority: 'high' } })]);
    expect(emf.named('EndToEndLatency')[0]!.value).toBeGreaterThanOrEqual(60_000);
    expect(emf.named('JobsFailed')).toEqual([expect.objectContaining({ value: 1, dimensions: { WorkerClass: 'gpu', Reason: 'WORKER_LOST' } })]);
  });

  it('counts each event once across a retry: what precedes the first failure now, the rest when Lambda retries from it', async () => {
    const [one, refused, three] = [succeeded(3), succeeded(4), failed(5)];
    const batch = [streamRecord(one, '1'), streamRecord(refused, '2'), streamRecord(three, '3')];

    const errors = await relayBatch(batch, publisher([refused.id]), { metrics: handlerMetrics() });
    expect([...errors.keys()]).toEqual(['2']);
    // Published, but after the checkpoint Lambda keeps (the lowest failed sequence number): it comes again.
    expect(emf.named('JobsFailed')).toEqual([]);
    expect(emf.named('JobsSucceeded')).toHaveLength(1);

    emf.clear();
    expect((await relayBatch(batch.slice(1), publisher(), { metrics: handlerMetrics() })).size).toBe(0);
    expect(emf.named('JobsSucceeded')).toHaveLength(1);
    expect(emf.named('JobsFailed')).toHaveLength(1);
  });

  it('counts nothing of a batch whose first record failed, and nothing of a publish that threw', async () => {
    const poisonFirst = [streamRecord(succeeded(6), '1', '{"not":"an event"}'), streamRecord(succeeded(7), '2')];
    await relayBatch(poisonFirst, publisher(), { metrics: handlerMetrics() });
    await expect(relayBatch([streamRecord(succeeded(8), '1')], publisher([], new Error('down')), { metrics: handlerMetrics() })).rejects.toThrow('down');
    expect(emf.named('JobsSucceeded')).toEqual([]);
  });

  it('emits nothing when given no Metrics instance', async () => {
    await relayBatch([streamRecord(committed(10), '1')], publisher());
    expect(emf.documents()).toEqual([]);
  });
});

describe('Optimistic publish metrics', () => {
  const job = sampleJob();
  const change: JobChange = { job, event: sampleEvent(job), statusMove: { from: null, to: 'QUEUED', priority: job.priority } };
  const notUsed = () => Promise.reject(new Error('not used by commit'));
  const inner = (commit: JobStore['commit'] = async () => {}): JobStore => ({ commit, commitAll: notUsed, get: notUsed, list: notUsed, counters: notUsed, ping: notUsed });
  const silent = new Logger({ logLevel: 'SILENT' });
  const counts = () => Object.fromEntries(['OptimisticPublishAttempts', 'OptimisticPublishSuccesses', 'OptimisticPublishFailures', 'SagaStartsLost'].map((n) => [n, values(n)]));
  const cancelled = jobEvent('JobCancelRequested', job, 'QUEUED', { requestedBy: 'alice' }, { time: new Date().toISOString(), correlationId: 'c' });
  /** A run starter that records what it was asked, failing the start or the hand-off when told to. */
  const runStarter = (fail: { start?: Error; handOff?: Error } = {}) => {
    const started: [string, number][] = [];
    const specs: ClaimSpec[] = [];
    const handedOff: EventEnvelope[] = [];
    const runs: RunStarter = {
      start: async (jobId, run, spec) => {
        if (fail.start) throw fail.start;
        started.push([jobId, run]);
        specs.push(spec);
        return 'started';
      },
      handOff: async (event) => {
        if (fail.handOff) throw fail.handOff;
        handedOff.push(event);
      },
    };
    return { runs, started, specs, handedOff };
  };
  const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });

  it('counts an attempt and a success, and times the publish', async () => {
    const bus = publisher();
    await new OptimisticPublishingStore(inner(), runStarter().runs, bus, silent, handlerMetrics()).commit({ ...change, event: cancelled });

    expect(bus.published).toEqual([cancelled]);
    expect(counts()).toEqual({ OptimisticPublishAttempts: [1], OptimisticPublishSuccesses: [1], OptimisticPublishFailures: [], SagaStartsLost: [] });
    const [latency] = emf.named('OptimisticPublishLatency');
    expect(latency).toMatchObject({ unit: 'Milliseconds', dimensions: {} });
    expect(Number.isInteger(latency!.value) && (latency!.value as number) >= 0).toBe(true);
  });

  it('counts a refused and a failed publish as failures, and the request still succeeds', async () => {
    await new OptimisticPublishingStore(inner(), runStarter().runs, publisher([cancelled.id]), silent, handlerMetrics()).commit({ ...change, event: cancelled });
    await new OptimisticPublishingStore(inner(), runStarter().runs, publisher([], new Error('network down')), silent, handlerMetrics()).commit({ ...change, event: cancelled });

    expect(counts()).toEqual({ OptimisticPublishAttempts: [1, 1], OptimisticPublishSuccesses: [], OptimisticPublishFailures: [1, 1], SagaStartsLost: [] });
    expect(emf.named('OptimisticPublishLatency')).toHaveLength(2);
  });

  it("starts a queued run's saga instead of publishing, and publishes any other event", async () => {
    const bus = publisher();
    const { runs, started, specs, handedOff } = runStarter();
    const queued = sampleEvent(job);

    await new OptimisticPublishingStore(inner(), runs, bus, silent, handlerMetrics()).commit({ ...change, event: queued });
    // The job's spec goes with the start, so the run's first claim need not read the job.
    expect(specs).toEqual([claimSpec(job)]);
    await new OptimisticPublishingStore(inner(), runs, bus, silent, handlerMetrics()).commit({ ...change, event: cancelled });

    expect(started).toEqual([[job.jobId, job.run]]);
    expect(handedOff).toEqual([]);
    expect(bus.published).toEqual([cancelled]);
    expect(counts()).toEqual({ OptimisticPublishAttempts: [1, 1], OptimisticPublishSuccesses: [1, 1], OptimisticPublishFailures: [], SagaStartsLost: [] });
  });

  it('starts a queued run even with publishing off, and publishes nothing else', async () => {
    const { runs, started } = runStarter();
    await new OptimisticPublishingStore(inner(), runs, undefined, silent, handlerMetrics()).commit({ ...change, event: sampleEvent(job) });
    await new OptimisticPublishingStore(inner(), runs, undefined, silent, handlerMetrics()).commit({ ...change, event: cancelled });

    expect(started).toEqual([[job.jobId, job.run]]);
    expect(counts()).toEqual({ OptimisticPublishAttempts: [1], OptimisticPublishSuccesses: [1], OptimisticPublishFailures: [], SagaStartsLost: [] });
  });

  it("hands a saga start that failed (throttled) to the saga starter's queue: a failure counted, the request still succeeds", async () => {
    const { runs, handedOff } = runStarter({ start: throttled });
    const queued = sampleEvent(job);
    await new OptimisticPublishingStore(inner(), runs, publisher(), silent, handlerMetrics()).commit({ ...change, event: queued });

    expect(handedOff).toEqual([queued]);
    expect(counts()).toEqual({ OptimisticPublishAttempts: [1], OptimisticPublishSuccesses: [], OptimisticPublishFailures: [1], SagaStartsLost: [] });
  });

  it('counts a start lost when the hand-off fails too, and the request still succeeds', async () => {
    const { runs } = runStarter({ start: throttled, handOff: new Error('SQS unavailable') });
    await new OptimisticPublishingStore(inner(), runs, publisher(), silent, handlerMetrics()).commit({ ...change, event: sampleEvent(job) });

    expect(counts()).toEqual({ OptimisticPublishAttempts: [1], OptimisticPublishSuccesses: [], OptimisticPublishFailures: [1], SagaStartsLost: [1] });
  });

  it('starts every run of a committed batch, and hands off only the one whose start failed', async () => {
    const jobs = ['a', 'b', 'c'].map((c) => sampleJob(`job_${c.repeat(32)}`));
    const changes: JobChange[] = jobs.map((j) => ({ job: j, event: sampleEvent(j), statusMove: { from: null, to: 'QUEUED', priority: j.priority } }));
    const committed: JobChange[][] = [];
    const store: JobStore = { ...inner(), commitAll: async (all) => void committed.push([...all]) };
    const { runs, started, handedOff } = runStarter();
    const throttledOnce: RunStarter = { ...runs, start: (jobId, run, spec) => (jobId === jobs[1]!.jobId ? Promise.reject(throttled) : runs.start(jobId, run, spec)) };

    await new OptimisticPublishingStore(store, throttledOnce, publisher(), silent, handlerMetrics()).commitAll(changes);

    expect(committed).toEqual([changes]);
    expect(started.map(([jobId]) => jobId).sort()).toEqual([jobs[0]!.jobId, jobs[2]!.jobId].sort());
    expect(handedOff).toEqual([changes[1]!.event]);
    expect(counts()).toEqual({ OptimisticPublishAttempts: [1, 1, 1], OptimisticPublishSuccesses: [1, 1], OptimisticPublishFailures: [1], SagaStartsLost: [] });
  });

  it('attempts nothing when the commit itself fails', async () => {
    const failing = inner(() => Promise.reject(new Error('ConditionalCheckFailed')));
    const { runs, started } = runStarter();
    await expect(new OptimisticPublishingStore(failing, runs, publisher(), silent, handlerMetrics()).commit(change)).rejects.toThrow('ConditionalCheckFailed');
    expect(started).toEqual([]);
    expect(emf.documents()).toEqual([]);
  });
});

