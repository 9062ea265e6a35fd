import type { SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { toPutEventsEntry } from '../../functions/adapters/eventbridge/event-publisher.ts';
import { EVENT_SOURCE, jobEvent, type EventEnvelope } from '../../functions/core/events.ts';
import type { JobRecord } from '../../functions/core/job.ts';
import { RULES } from '../../functions/declarations/events.ts';
import { LocalEventBus } from '../../local/event-bus.ts';
import { createLocalMetrics, SeenIds, type LocalMetrics } from '../../local/prometheus.ts';
import type { GaugeSources } from '../../local/prometheus-gauges.ts';
import { sampleEvent, sampleJob } from '../support/events.ts';
import { parseMetrics, samples, total } from '../support/prometheus.ts';

const BUS = 'forgeflow-test';
/** An entry as the SDK sends it over the wire: Time in epoch seconds. */
const entryOf = (event: EventEnvelope) => ({ ...toPutEventsEntry(BUS, event), Time: Date.parse(event.time) / 1000 });
const scrape = async (metrics: LocalMetrics) => parseMetrics((await metrics.scrape()).body);
const ended = (type: 'JobSucceeded' | 'JobFailed', job: JobRecord, durationMs: number): EventEnvelope => {
  const result = { exitCode: type === 'JobSucceeded' ? 0 : 127, durationMs, outputTail: '' };
  const failure = { reason: 'COMMAND_NOT_FOUND' as const, message: 'm', category: 'user' as const, retryable: false, suggestedActions: [] };
  const time = new Date(Date.parse(job.createdAt) + 4000).toISOString();
  return type === 'JobSucceeded'
    ? jobEvent('JobSucceeded', { ...job, status: 'SUCCEEDED', attempts: 1 }, 'RUNNING', { result }, { time, correlationId: 'c' })
    : jobEvent('JobFailed', { ...job, status: 'FAILED', attempts: 1 }, 'RUNNING', { failure, result }, { time, correlationId: 'c' });
};

describe('Local metrics: counting from the bus', () => {
  it('counts an event the bus accepts twice (optimistic publish, then the relay) once, in one call or in two', async () => {
    const bus = new LocalEventBus(BUS, [], () => async () => {});
    const metrics = createLocalMetrics({ bus, processMetrics: false });
    const first = sampleEvent(sampleJob('job_a'));
    const entry = entryOf(first);

    expect((await bus.putEvents([entry])).FailedEntryCount).toBe(0);
    expect((await bus.putEvents([entry, entry])).FailedEntryCount).toBe(0);
    await bus.putEvents([entryOf(sampleEvent(sampleJob('job_b')))]);

    expect(bus.published).toBe(4);
    expect(total(await scrape(metrics), 'forgeflow_jobs_submitted_total', { worker_class: 'default', priority: 'medium' })).toBe(2);
  });

  it('counts an entry only once a target has it: a failed entry is not counted, its retry is', async () => {
    let failNext = true;
    const rule = { ...RULES[0]!, pattern: { source: [EVENT_SOURCE] } };
    const bus = new LocalEventBus(BUS, [rule], () => async () => {
      if (failNext) throw new Error('queue unreachable');
    });
    const metrics = createLocalMetrics({ bus, processMetrics: false });
    const entry = entryOf(sampleEvent());

    expect((await bus.putEvents([entry])).FailedEntryCount).toBe(1);
    expect(samples(await scrape(metrics), 'forgeflow_jobs_submitted_total')).toEqual([]);
    failNext = false;
    await bus.putEvents([entry]);
    await bus.putEvents([entry]);

    expect(total(await scrape(metrics), 'forgeflow_jobs_submitted_total')).toBe(1);
  });

  it('counts only what parseEvent accepts, and does not remember the id of what it refused', () => {
    const metrics = createLocalMetrics({ processMetrics: false });
    const event = sampleEvent();

    expect(metrics.record({ ...event, data: { jobId: event.subject } })).toBe(false);
    expect(metrics.record({ id: event.id, type: 'SomethingElse' })).toBe(false);
    expect(metrics.record('not an object')).toBe(false);
    expect(metrics.record(null)).toBe(false);
    expect(metrics.record(event)).toBe(true);
    expect(metrics.record(JSON.parse(JSON.stringify(event)))).toBe(false);
  });

  it('labels counters with the declared dimensions and observes durations in seconds', async () => {
    const metrics = createLocalMetrics({ processMetrics: false });
    metrics.record(ended('JobSucceeded', sampleJob('job_s'), 1500));
    metrics.record(ended('JobFailed', sampleJob('job_f'), 20));
    metrics.record(ended('JobSucceeded', { ...sampleJob('job_h'), priority: 'high' }, 10));

    const scraped = await scrape(metrics);
    expect(samples(scraped, 'forgeflow_jobs_succeeded_total', { priority: 'medium' })).toEqual([{ labels: { worker_class: 'default', priority: 'medium' }, value: '1' }]);
    expect(samples(scraped, 'forgeflow_jobs_failed_total')).toEqual([{ labels: { worker_class: 'default', reason: 'COMMAND_NOT_FOUND' }, value: '1' }]);
    const duration = { worker_class: 'default' };
    expect(total(scraped, 'forgeflow_job_duration_seconds_count', duration)).toBe(3);
    expect(total(scraped, 'forgeflow_job_duration_seconds_sum', duration)).toBeCloseTo(1.53);
    const buckets = Object.fromEntries(samples(scraped, 'forgeflow_job_duration_seconds_bucket', duration).map((s) => [s.labels!.le, s.value]));
    expect(buckets).toMatchObject({ '0.05': '2', '1': '2', '2.5': '3', '+Inf': '3' });
    // Submission to success: 4 s, from the event's createdAt to its time; one series per priority.
    expect(total(scraped, 'forgeflow_job_end_to_end_latency_seconds_sum', { worker_class: 'default', priority: 'medium' })).toBe(4);
    expect(total(scraped, 'forgeflow_job_end_to_end_latency_seconds_count', { priority: 'high' })).toBe(1);
    expect(total(scraped, 'forgeflow_job_end_to_end_latency_seconds_count')).toBe(2);
    expect(scraped.get('forgeflow_job_duration_seconds')!.type).toBe('HISTOGRAM');
  });

  it('keeps each instance its own registry: counts in one never show in another', async () => {
    const one = createLocalMetrics({ processMetrics: false });
    const other = createLocalMetrics({ processMetrics: false });
    one.record(sampleEvent());

    expect(total(await scrape(one), 'forgeflow_jobs_submitted_total')).toBe(1);
    expect(total(await scrape(other), 'forgeflow_jobs_submitted_total')).toBe(0);
  });

  it('remembers the last `capacity` ids: an id older than that counts again', () => {
    const seen = new SeenIds(2);
    expect([seen.add('a'), seen.add('b'), seen.add('a')]).toEqual([true, true, false]);
    expect(seen.add('c')).toBe(true);
    expect([seen.has('a'), seen.has('b'), seen.has('c')]).toEqual([false, true, true]);
    expect(seen.add('a')).toBe(true);
    expect([seen.has('b'), seen.has('c'), seen.has('a')]).toEqual([false, true, true]);
  });
});

describe('Local metrics: gauges read at scrape time', () => {
  const sources = (overrides: Partial<GaugeSources> = {}): GaugeSources => {
    const queueUrls = new Map<string, string>();
    for (const priority of ['critical', 'high', 'medium', 'low']) {
      queueUrls.set(`forgeflow-dispatch-default-${priority}`, `url:${priority}`);
      queueUrls.set(`forgeflow-dispatch-default-${priority}-dlq`, `url:${priority}-dlq`);
    }
    queueUrls.set('forgeflow-webhooks-dlq', 'url:history-dlq');
    const depth: Record<string, string> = { 'url:high': '3', 'url:history-dlq': '2' };
    return {
      // Only GetQueueAttributes is sent; the double answers it from the table above.
      sqs: { send: async (command: { input: { QueueUrl: string } }) => ({ Attributes: { ApproximateNumberOfMessages: depth[command.input.QueueUrl] ?? '0' } }) } as unknown as SQSClient,
      queueUrls,
      jobCounters: async () => ({ 'RUNNING#high': 2, 'DISPATCHED#high': 1, 'QUEUED#low': 5, 'SUCCEEDED#low': 9 }),
      workers: { list: async (query) => ({ items: query.state === 'READY' ? [{}, {}] as never[] : [] }) },
      ...overrides,
    };
  };

  it('reports queue and DLQ depths, active jobs from the stats counters and live workers by state', async () => {
    const scraped = await scrape(createLocalMetrics({ processMetrics: false, gauges: sources() }));

    expect(total(scraped, 'forgeflow_queue_depth', { worker_class: 'default', priority: 'high' })).toBe(3);
    expect(samples(scraped, 'forgeflow_queue_depth')).toHaveLength(4);
    expect(total(scraped, 'forgeflow_dlq_depth', { queue: 'forgeflow-webhooks-dlq' })).toBe(2);
    expect(samples(scraped, 'forgeflow_dlq_depth')).toHaveLength(5);
    expect(total(scraped, 'forgeflow_jobs_active', { priority: 'high' })).toBe(3);
    expect(total(scraped, 'forgeflow_jobs_active')).toBe(3);
    expect(total(scraped, 'forgeflow_workers', { worker_class: 'default', state: 'READY' })).toBe(2);
    expect(samples(scraped, 'forgeflow_workers').map((s) => s.labels?.state).sort()).toEqual(['BOOTING', 'DRAINING', 'PROVISIONING', 'READY', 'TERMINATING']);
  });

  it('serves a failing source as no samples (never a stale value) and counts the failure', async () => {
    let fail = false;
    const logged: string[] = [];
    const metrics = createLocalMetrics({
      processMetrics: false,
      gauges: sources({ jobCounters: async () => (fail ? Promise.reject(new Error('DynamoDB Local is gone')) : { 'RUNNING#low': 1 }) }),
      log: (message) => logged.push(message),
    });
    expect(total(await scrape(metrics), 'forgeflow_jobs_active')).toBe(1);
    fail = true;

    const first = await scrape(metrics);
    const second = await scrape(metrics);
    expect(samples(second, 'forgeflow_jobs_active')).toEqual([]);
    expect(total(first, 'forgeflow_metrics_scrape_errors_total', { gauge: 'forgeflow_jobs_active' })).toBe(1);
    expect(total(second, 'forgeflow_metrics_scrape_errors_total', { gauge: 'forgeflow_jobs_active' })).toBe(2);
    expect(total(second, 'forgeflow_workers')).toBe(2);
    // Logged when it starts failing, not at every scrape.
    expect(logged).toEqual([expect.stringContaining('DynamoDB Local is gone')]);
  });
});
