import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TERMINAL_STATUSES } from '../../functions/core/job-status.ts';
import { LOAD_TEST_TENANT_RATE_LIMIT, startLocalRuntime, type LocalRuntime } from '../../local/runtime.ts';
import { parseMetrics, samples, total } from '../support/prometheus.ts';
import { waitFor } from '../support/wait.ts';
import { sharedDynamoDb } from '../support/dynamodb.ts';

interface JobView {
  jobId: string;
  status: string;
  failure?: { reason: string };
}

/**
 * `GET /metrics` end to end: real jobs over HTTP through the whole local platform, counted from the local bus (the
 * relay's publishes; de-duplication against the API's fast path and redeliveries is prometheus-counting.test.ts's),
 * scraped over HTTP and read with a parser that is not prom-client.
 */
describe('Local: GET /metrics', { timeout: 120_000 }, () => {
  let home: string;
  let runtime: LocalRuntime;
  const logged: string[] = [];
  /** Every entry the bus accepted since the start, by event id: what the counters had to de-duplicate. */
  const onBus = new Map<string, { type: string; subject: string; entries: number }>();
  // A job that runs until the test creates this file: it holds a worker without a sleep standing in for a wait.
  // In the shared temp directory, since jobs run as `nobody` when the tests run as root.
  const gate = join(tmpdir(), `forgeflow-metrics-gate-${randomUUID()}`);

  const call = (path: string, init: RequestInit & { token?: string } = {}) =>
    fetch(`${runtime.url}${path}`, { ...init, headers: { ...(init.token ? { authorization: `Bearer ${init.token}` } : {}), 'content-type': 'application/json' } });
  const submit = async (spec: Record<string, unknown>) => {
    const response = await call('/v1/jobs', { method: 'POST', token: runtime.tokens.user, body: JSON.stringify(spec) });
    expect(response.status).toBe(201);
    return ((await response.json()) as JobView).jobId;
  };
  const view = async (jobId: string) => (await (await call(`/v1/jobs/${jobId}`, { token: runtime.tokens.user })).json()) as JobView;
  const scrape = async () => {
    const response = await call('/metrics');
    expect(response.status).toBe(200);
    return parseMetrics(await response.text());
  };

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'forgeflow-metrics-'));
    runtime = await startLocalRuntime({ home, port: 0, sharedDynamoDb: sharedDynamoDb(), log: (message) => logged.push(message), workers: 1, tenantRateLimit: LOAD_TEST_TENANT_RATE_LIMIT });
    runtime.backbone.bus.onPublished(({ detail }) => {
      const event = detail as { id: string; type: string; subject: string };
      const seen = onBus.get(event.id) ?? { type: event.type, subject: event.subject, entries: 0 };
      onBus.set(event.id, { ...seen, entries: seen.entries + 1 });
    });
  });

  afterAll(async () => {
    await runtime?.stop();
    rmSync(home, { recursive: true, force: true });
    rmSync(gate, { force: true });
  });

  it('serves /metrics without a token, in Prometheus text, while /v1/jobs still needs one', async () => {
    const metrics = await call('/metrics');
    const jobs = await call('/v1/jobs');

    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toBe(runtime.metrics.registry.contentType);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(jobs.status).toBe(401);
    // Only GET is served: another method is a path no route takes, a 404 before any token, as API Gateway answers.
    expect((await call('/metrics', { method: 'POST' })).status).toBe(404);
  });

  it('counts each job once, observes every started and finished attempt, and reads the gauges', async () => {
    const held = await submit({ command: 'while [ ! -e "$1" ]; do sleep 0.05; done', args: [gate], timeoutSeconds: 60 });
    const others = [
      await submit({ command: 'true' }),
      await submit({ command: 'true', priority: 'high' }),
      await submit({ command: 'exit 1', maxAttempts: 1 }),
      await submit({ command: 'exit 1', maxAttempts: 1, priority: 'low' }),
      await submit({ command: 'exit 127', maxAttempts: 1 }),
    ];
    const ids = [held, ...others];

    await waitFor('the held job to run', async () => (await view(held)).status === 'RUNNING', 60_000, 100);
    const running = await scrape();
    expect(total(running, 'forgeflow_jobs_active')).toBeGreaterThanOrEqual(1);
    expect(total(running, 'forgeflow_workers', { worker_class: 'default', state: 'READY' })).toBeGreaterThanOrEqual(1);
    const depths = samples(running, 'forgeflow_queue_depth', { worker_class: 'default' });
    expect(depths.map((s) => s.labels!.priority).sort()).toEqual(['critical', 'high', 'low', 'medium']);
    for (const depth of [...depths, ...samples(running, 'forgeflow_dlq_depth')]) expect(Number(depth.value)).toBeGreaterThanOrEqual(0);
    expect(samples(running, 'forgeflow_dlq_depth').length).toBeGreaterThan(4);

    writeFileSync(gate, '');
    let views: JobView[] = [];
    await waitFor('all jobs to end', async () => (views = await Promise.all(ids.map(view))).every((v) => (TERMINAL_STATUSES as readonly string[]).includes(v.status)), 60_000, 100);
    expect(views.map((v) => [v.status, v.failure?.reason])).toEqual([
      ['SUCCEEDED', undefined],
      ['SUCCEEDED', undefined],
      ['SUCCEEDED', undefined],
      // A non-zero exit may be retried, so with one attempt the job is dead-lettered; exit 127 is never retried.
      ['DEAD_LETTERED', 'NON_ZERO_EXIT_CODE'],
      ['DEAD_LETTERED', 'NON_ZERO_EXIT_CODE'],
      ['FAILED', 'COMMAND_NOT_FOUND'],
    ]);
    // A job's status is committed before the relay publishes its event: wait for the events. (A submit starts its
    // saga directly; JobQueued reaches the bus once, from the relay.)
    const events = (type: string) => [...onBus.values()].filter((e) => e.type === type && ids.includes(e.subject));
    await waitFor('every end and every JobQueued on the bus', () => {
      const ends = ['JobSucceeded', 'JobFailed', 'JobDeadLettered'].flatMap(events);
      return ends.length === ids.length && events('JobQueued').length === ids.length;
    });

    const after = await scrape();
    const jobs = { worker_class: 'default' };
    expect(total(after, 'forgeflow_jobs_submitted_total', jobs)).toBe(6);
    expect(samples(after, 'forgeflow_jobs_submitted_total').map((s) => [s.labels!.priority, s.value]).sort()).toEqual([['high', '1'], ['low', '1'], ['medium', '4']]);
    expect(total(after, 'forgeflow_jobs_started_total', jobs)).toBe(6);
    expect(total(after, 'forgeflow_jobs_succeeded_total', jobs)).toBe(3);
    expect(total(after, 'forgeflow_jobs_dead_lettered_total', { ...jobs, reason: 'NON_ZERO_EXIT_CODE' })).toBe(2);
    expect(total(after, 'forgeflow_jobs_failed_total', { ...jobs, reason: 'COMMAND_NOT_FOUND' })).toBe(1);
    expect(total(after, 'forgeflow_jobs_failed_total')).toBe(1);
    expect(total(after, 'forgeflow_jobs_retried_total')).toBe(0);
    // Every job waited for its first attempt once; every attempt whose end event carries a result has a duration
    // (a dead-lettered attempt's event carries none: see the report); every success has an end-to-end latency.
    expect(total(after, 'forgeflow_job_queue_wait_seconds_count', jobs)).toBe(6);
    expect(total(after, 'forgeflow_job_duration_seconds_count', jobs)).toBe(4);
    expect(total(after, 'forgeflow_job_end_to_end_latency_seconds_count', jobs)).toBe(3);
    // In seconds: four short commands, the held one included, take far less than a minute (in milliseconds, more).
    expect(total(after, 'forgeflow_job_duration_seconds_sum', jobs)).toBeGreaterThan(0);
    expect(total(after, 'forgeflow_job_duration_seconds_sum', jobs)).toBeLessThan(60);
    expect(after.get('forgeflow_job_duration_seconds')!.type).toBe('HISTOGRAM');
    expect(total(after, 'forgeflow_jobs_active')).toBe(0);
    expect(total(after, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(total(after, 'forgeflow_metrics_scrape_errors_total')).toBe(0);
    expect(logged.filter((line) => line.startsWith('metrics:'))).toEqual([]);
  });
});
