import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tenantRateLimitEnvironment } from '../../functions/api/tenant-rate-limit.ts';
import { freePort } from '../../local/ports.ts';
import { LOAD_TEST_TENANT_RATE_LIMIT } from '../../local/runtime.ts';
import { javaProcessesFor, listening, startLocal, until, type Started } from '../support/local-process.ts';
import { waitFor } from '../support/wait.ts';
import { TERMINAL_STATUSES } from '../../functions/core/job-status.ts';

interface JobView {
  jobId: string;
  status: string;
  attempts: number;
  finishedAt?: string;
  failure?: { reason: string };
}

const TERMINAL: readonly string[] = TERMINAL_STATUSES;

describe('Crash recovery of the local runtime', () => {
  const home = mkdtempSync(join(tmpdir(), 'ff-crash-'));
  const started: Started[] = [];
  afterAll(async () => {
    for (const s of started) if (s.child.exitCode === null) s.child.kill('SIGKILL');
    rmSync(home, { recursive: true, force: true });
  });

  it('carries every queued and mid-run job to a terminal state after a SIGKILL and a restart', async () => {
    const port = await freePort();
    const env = {
      FORGEFLOW_HOME: home,
      PORT: String(port),
      FORGEFLOW_WORKERS: '1',
      FORGEFLOW_WORKER_CONCURRENCY: '2',
      POWERTOOLS_LOG_LEVEL: 'ERROR',
      // It polls eight jobs every 100 ms, beyond a tenant's default limit.
      ...tenantRateLimitEnvironment(LOAD_TEST_TENANT_RATE_LIMIT),
    };
    const first = startLocal(env);
    started.push(first);
    const url = await listening(first);
    const token = (JSON.parse(readFileSync(join(home, 'tokens.json'), 'utf8')) as { user: string }).user;
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const get = async (id: string) => (await (await fetch(`${url.replace(/:\d+$/, `:${port}`)}/v1/jobs/${id}`, { headers })).json()) as JobView;

    // Two slots, eight jobs of 3 s: two run when the runtime dies (the kill comes within a poll of their RUNNING,
    // usually well inside the 3 s), the rest wait in the queue.
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      const res = await fetch(`${url}/v1/jobs`, { method: 'POST', headers, body: JSON.stringify({ command: 'sleep 3; echo done', maxAttempts: 3 }) });
      ids.push(((await res.json()) as JobView).jobId);
    }
    await waitFor('two jobs to be running', async () => (await Promise.all(ids.map(get))).filter((j) => j.status === 'RUNNING').length === 2, 60_000, 100);
    const interrupted = (await Promise.all(ids.map(get))).filter((j) => j.status === 'RUNNING').map((j) => j.jobId);

    const killedAt = new Date().toISOString();
    first.child.kill('SIGKILL');
    await first.exit;
    // Its DynamoDB Local goes with it (the watchdog's pipe closes), so the restart can use the same data folder.
    expect(await until(() => javaProcessesFor(home).length === 0, 20_000)).toBe(true);
    // Tables on disk outlive the process, and so do the relay's stream positions: the restart resumes from them. (A
    // write the kill interrupted may leave its temporary file beside them.)
    expect(readdirSync(join(home, 'checkpoints'))).toEqual(expect.arrayContaining(['jobs-stream.json', 'outbox-stream.json']));

    const second = startLocal(env);
    started.push(second);
    await listening(second);
    await waitFor('every job to end after the restart', async () => (await Promise.all(ids.map(get))).every((j) => TERMINAL.includes(j.status)), 120_000, 250);

    const jobs = await Promise.all(ids.map(get));
    expect(jobs.map((j) => j.status)).toEqual(ids.map(() => 'SUCCEEDED'));
    // The interrupted attempt counts: a job held by a worker at the kill succeeded on its second attempt, after a
    // WORKER_LOST retry. (More than the two seen running may have been claimed in the moment before the kill.)
    const retried = jobs.filter((j) => j.attempts === 2).map((j) => j.jobId);
    expect(jobs.every((j) => j.attempts === 1 || j.attempts === 2)).toBe(true);
    expect(retried.length).toBeGreaterThanOrEqual(1);
    // Each job seen running ran again, unless it had finished before the kill: on a loaded machine (a fresh clone's
    // CI) the poll that saw it running can take longer than its 3 s.
    const notRetried = jobs.filter((j) => interrupted.includes(j.jobId) && !retried.includes(j.jobId));
    expect(notRetried.filter((j) => !(j.finishedAt && j.finishedAt <= killedAt)), killedAt).toEqual([]);
    for (const id of retried) {
      const events = (await (await fetch(`${url}/v1/jobs/${id}/events`, { headers })).json()) as { items: { type: string; data: { failure?: { reason: string } } }[] };
      expect(events.items.find((e) => e.type === 'JobRetryScheduled')?.data.failure?.reason, id).toBe('WORKER_LOST');
    }

    second.child.kill('SIGTERM');
    expect((await second.exit).code).toBe(0);
  }, 300_000);
});
