import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TERMINAL_STATUSES } from '../../functions/core/job-status.ts';
import type { EventEnvelope } from '../../functions/core/events.ts';
import { workerClassNamed } from '../../functions/declarations/worker-classes.ts';
import type { LocalFleetSettings } from '../../local/fleet/local-fleet.ts';
import { LOAD_TEST_TENANT_RATE_LIMIT, startLocalRuntime, type LocalRuntime } from '../../local/runtime.ts';
import { waitFor } from '../support/wait.ts';
import { sharedDynamoDb } from '../support/dynamodb.ts';

interface JobView {
  jobId: string;
  status: string;
  attempts: number;
  workerId?: string;
  failure?: { reason: string };
}

/**
 * The fleet end to end on the local runtime: the same scaler, provisioning saga, reaper and worker-control
 * function as in AWS, with agent processes as instances. Intervals are short; every wait is on observable state.
 */
describe('Fleet on the local runtime', { timeout: 180_000 }, () => {
  let runtime: LocalRuntime | undefined;
  afterEach(async () => {
    await runtime?.stop();
    runtime = undefined;
  });

  const start = async (fleet: LocalFleetSettings) => {
    runtime = await startLocalRuntime({
      home: mkdtempSync(join(tmpdir(), 'ff-fleet-')),
      port: 0,
      sharedDynamoDb: sharedDynamoDb(),
      log: () => {},
      workers: fleet.minWorkers ?? 0,
      fleet,
      tenantRateLimit: LOAD_TEST_TENANT_RATE_LIMIT,
    });
    const headers = { authorization: `Bearer ${runtime.tokens.user}`, 'content-type': 'application/json' };
    const api = async <T>(method: string, path: string, body?: unknown) => {
      const res = await fetch(`${runtime!.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      return (await res.json()) as T;
    };
    return { runtime, api, fleet: runtime.fleet!.fleet, provider: runtime.fleet!.provider };
  };
  const allEnded = async (api: <T>(m: string, p: string) => Promise<T>, ids: string[]) => {
    const views = await Promise.all(ids.map((id) => api<JobView>('GET', `/v1/jobs/${id}`)));
    return views.every((v) => (TERMINAL_STATUSES as readonly string[]).includes(v.status)) ? views : undefined;
  };

  it('starts workers from zero for 20 jobs, runs them all once, then drains back to zero with no job killed', async () => {
    const { api, fleet, provider } = await start({ minWorkers: 0, maxWorkers: 3, slotsPerWorker: 2, idleTimeoutSeconds: 3, minRunningSeconds: 0, heartbeatIntervalSeconds: 1, scaleIntervalMs: 500, reapIntervalMs: 1000 });
    expect(await fleet.context.store.activeCount('default')).toBe(0);
    let peak = 0;
    const watch = setInterval(() => void provider.listInstances().then((list) => (peak = Math.max(peak, list.length))), 100);
    try {
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) ids.push((await api<JobView>('POST', '/v1/jobs', { command: 'sleep 1; echo "job $1"', args: [String(i)] })).jobId);
      let views: JobView[] | undefined;
      await waitFor('all 20 jobs to end', async () => (views = await allEnded(api, ids)) !== undefined, 120_000, 250);
      expect(views!.map((v) => v.status)).toEqual(Array(20).fill('SUCCEEDED'));
      // One attempt each: no worker was taken away from a job it was running.
      expect(views!.map((v) => v.attempts)).toEqual(Array(20).fill(1));
      expect(new Set(views!.map((v) => v.workerId)).size).toBeGreaterThan(1);

      await waitFor('the fleet to drain back to zero', async () => (await fleet.context.store.activeCount('default')) === 0 && (await provider.listInstances()).length === 0, 60_000, 250);
    } finally {
      clearInterval(watch);
    }
    expect(peak).toBeLessThanOrEqual(3);
    const { items } = await fleet.context.store.list({ limit: 50 });
    expect(items.length).toBeGreaterThanOrEqual(2);
    for (const worker of items) expect(worker).toMatchObject({ state: 'TERMINATED', termination: { reason: 'IDLE' } });
  });

  it('a worker killed with SIGKILL mid-job: the reaper records it lost and the job runs again on another worker', async () => {
    const { api, fleet, provider } = await start({ minWorkers: 2, maxWorkers: 2, slotsPerWorker: 1, heartbeatIntervalSeconds: 1, scaleIntervalMs: 500, reapIntervalMs: 1000 });
    await waitFor('two READY workers', async () => (await fleet.context.store.list({ class: 'default', state: 'READY', limit: 10 })).items.length === 2, 60_000, 250);
    const { jobId } = await api<JobView>('POST', '/v1/jobs', { command: 'sleep 4; echo survived', maxAttempts: 3 });
    let running: JobView | undefined;
    await waitFor('the job to run', async () => (running = await api<JobView>('GET', `/v1/jobs/${jobId}`)).status === 'RUNNING', 60_000, 100);
    const victim = (await fleet.context.store.get(running!.workerId!))!;
    process.kill(provider.pidOf(victim.instanceId!)!, 'SIGKILL');

    let ended: JobView | undefined;
    await waitFor('the job to end', async () => (ended = (await allEnded(api, [jobId]))?.[0]) !== undefined, 90_000, 250);
    expect(ended).toMatchObject({ status: 'SUCCEEDED' });
    expect(ended!.workerId).not.toBe(victim.workerId);
    await waitFor('the reaper to record the lost worker', async () => (await fleet.context.store.get(victim.workerId))?.state === 'TERMINATED', 30_000, 250);
    expect(await fleet.context.store.get(victim.workerId)).toMatchObject({ termination: { reason: 'LOST' } });
    // It ran again elsewhere: either its message reappeared to another worker (same attempt), or the reaper handed
    // it back first (WORKER_LOST, a new attempt). Both are the job running twice, the second time to its end.
    const events = await api<{ items: EventEnvelope[] }>('GET', `/v1/jobs/${jobId}/events`);
    const runs = events.items.filter((e): e is EventEnvelope<'JobRunning'> => e.type === 'JobRunning').map((e) => e.data.workerId);
    expect(runs[0]).toBe(victim.workerId);
    expect(runs.at(-1)).toBe(ended!.workerId);
  });

  it('reaps an orphan: an agent process no worker record knows', async () => {
    const { fleet, provider } = await start({ minWorkers: 0, maxWorkers: 1, reapIntervalMs: 60_000 });
    const workerClass = workerClassNamed('default', 'local');
    const stray = await provider.launchStray({
      workerId: 'w-01m8nrv99xatwktdbcaaanvhja',
      workerClass,
      image: { amiName: 'al2023', amiId: 'local', rootDeviceName: 'local' },
      candidate: { instanceType: 'local', market: 'on-demand' },
      clientToken: 'stray',
    });
    expect((await provider.listInstances()).map((i) => i.instanceId)).toContain(stray);
    const report = await fleet.reaper.sweep();
    expect(report.orphansTerminated).toEqual([stray]);
    await waitFor('the orphan process to exit', async () => (await provider.describe(stray))?.state === 'terminated', 20_000, 100);
  });
});
