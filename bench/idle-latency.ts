import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOAD_TEST_TENANT_RATE_LIMIT, startLocalRuntime } from '../local/runtime.ts';
import { cpuSecondsSince, cpuSnapshot } from './profile.ts';
import { percentile, round } from './stats.ts';

interface JobView { jobId: string; status: string; createdAt: string; updatedAt: string; startedAt?: string }

/**
 * One job at a time on an idle local runtime (one warm worker): submit → SUCCEEDED as the client sees it, and where
 * the time goes from the job's own timestamps (created → started → updated at SUCCEEDED). A job is followed with
 * GET every 10 ms, which the figure includes.
 */
export async function benchIdleLatency(options: { jobs: number }) {
  const home = mkdtempSync(join(tmpdir(), 'ff-bench-idle-'));
  const runtime = await startLocalRuntime({ home, port: 0, log: () => {}, workers: 1, workerConcurrency: 4, tenantRateLimit: LOAD_TEST_TENANT_RATE_LIMIT, fleet: { collectIntervalMs: 3_600_000 } });
  try {
    const headers = { authorization: `Bearer ${runtime.tokens.user}`, 'content-type': 'application/json' };
    const seen = { total: [] as number[], toStart: [] as number[], afterStart: [] as number[] };
    for (let i = 0; i < options.jobs; i++) {
      const started = performance.now();
      const { jobId } = (await (await fetch(`${runtime.url}/v1/jobs`, { method: 'POST', headers, body: JSON.stringify({ command: 'true' }) })).json()) as JobView;
      let job: JobView;
      for (;;) {
        job = (await (await fetch(`${runtime.url}/v1/jobs/${jobId}`, { headers })).json()) as JobView;
        if (job.status === 'SUCCEEDED' || job.status === 'FAILED' || job.status === 'DEAD_LETTERED') break;
        await new Promise((r) => setTimeout(r, 10));
      }
      // The first jobs warm the handlers' modules and connections: they are measured, not counted.
      if (i < 3) continue;
      seen.total.push(performance.now() - started);
      if (job.startedAt) {
        seen.toStart.push(Date.parse(job.startedAt) - Date.parse(job.createdAt));
        seen.afterStart.push(Date.parse(job.updatedAt) - Date.parse(job.startedAt));
      }
    }
    const figures = (values: number[]) => ({ p50: round(percentile(values, 50)), p99: round(percentile(values, 99)) });
    const idle = await idleCpu(15);
    return { jobs: seen.total.length, total: figures(seen.total), createdToStarted: figures(seen.toStart), startedToSucceeded: figures(seen.afterStart), idle };
  } finally {
    await runtime.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

/**
 * What the runtime costs while nothing happens: the share of one core each process kind uses over `seconds` (this
 * process is the runtime; its children are DynamoDB Local and the agent), from process.cpuUsage and /proc.
 */
async function idleCpu(seconds: number): Promise<Record<string, number>> {
  const before = cpuSnapshot();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  return Object.fromEntries(Object.entries(cpuSecondsSince(before)).map(([kind, cpuSeconds]) => [kind, round((100 * cpuSeconds) / seconds)]));
}
