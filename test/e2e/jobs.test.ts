import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOAD_TEST_TENANT_RATE_LIMIT, startLocalRuntime, type LocalRuntime } from '../../local/runtime.ts';
import { waitFor } from '../support/wait.ts';
import { TERMINAL_STATUSES } from '../../functions/core/job-status.ts';

interface JobView {
  jobId: string;
  status: string;
  attempts: number;
  result?: { exitCode: number | null; durationMs: number; outputTail: string };
  failure?: { reason: string; category: string; suggestedActions: string[] };
}

const TERMINAL: readonly string[] = TERMINAL_STATUSES;

/** What each kind of job is, and where it must end. */
const KINDS = {
  success: { spec: { command: 'echo ok-$1', args: ['e2e'] }, status: 'SUCCEEDED', reason: undefined },
  exit1: { spec: { command: 'echo failing >&2; exit 1', maxAttempts: 2 }, status: 'DEAD_LETTERED', reason: 'NON_ZERO_EXIT_CODE' },
  missing: { spec: { command: 'forgeflow-no-such-command-e2e' }, status: 'FAILED', reason: 'COMMAND_NOT_FOUND' },
  timeout: { spec: { command: 'sleep 20', timeoutSeconds: 1, maxAttempts: 1 }, status: 'DEAD_LETTERED', reason: 'EXECUTION_TIMEOUT' },
  cancelled: { spec: { command: 'sleep 60' }, status: 'CANCELLED', reason: 'CANCELLED' },
} as const;
type Kind = keyof typeof KINDS;

describe('End to end over HTTP: 200 mixed jobs on the local runtime', () => {
  let runtime: LocalRuntime;
  let headers: Record<string, string>;
  const api = async <T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${runtime.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as T };
  };

  beforeAll(async () => {
    runtime = await startLocalRuntime({
      home: mkdtempSync(join(tmpdir(), 'ff-e2e-')),
      port: 0,
      log: () => {},
      workers: 2,
      workerConcurrency: 4,
      tenantRateLimit: LOAD_TEST_TENANT_RATE_LIMIT,
    });
    headers = { authorization: `Bearer ${runtime.tokens.user}`, 'content-type': 'application/json' };
  });
  afterAll(() => runtime?.stop());

  it('ends every job in its expected terminal state with its reason', async () => {
    const kinds = Object.keys(KINDS) as Kind[];
    const submitted: { id: string; kind: Kind }[] = [];
    for (let i = 0; i < 200; i++) {
      const kind = kinds[i % kinds.length]!;
      const res = await api<JobView>('POST', '/v1/jobs', KINDS[kind].spec);
      expect(res.status).toBe(201);
      submitted.push({ id: res.body.jobId, kind });
      // Cancel the sleepers as they come: some are still queued, some already run on a worker.
      if (kind === 'cancelled') expect((await api('DELETE', `/v1/jobs/${res.body.jobId}`)).status).toBe(202);
    }

    const final = new Map<string, JobView>();
    await waitFor(
      'all 200 jobs to end',
      async () => {
        const pending = submitted.filter((s) => !final.has(s.id));
        const views = await Promise.all(pending.map((s) => api<JobView>('GET', `/v1/jobs/${s.id}`)));
        for (const view of views) if (TERMINAL.includes(view.body.status)) final.set(view.body.jobId, view.body);
        return final.size === submitted.length;
      },
      240_000,
      500,
    );

    for (const { id, kind } of submitted) {
      const job = final.get(id)!;
      const expected = KINDS[kind];
      expect({ kind, status: job.status, reason: job.failure?.reason }).toEqual({ kind, status: expected.status, reason: expected.reason });
    }
    const byKind = (kind: Kind) => submitted.filter((s) => s.kind === kind).map((s) => final.get(s.id)!);
    expect(byKind('success').every((j) => j.result?.exitCode === 0 && j.result.outputTail === 'ok-e2e\n')).toBe(true);
    expect(byKind('exit1').every((j) => j.attempts === 2 && j.result?.outputTail.includes('failing'))).toBe(true);
    expect(byKind('missing').every((j) => j.result?.exitCode === 127 && j.failure!.suggestedActions.length > 0)).toBe(true);
    expect(byKind('timeout').every((j) => j.failure!.category === 'user')).toBe(true);

    const stats = await api<{ queued: Record<string, number>; running: Record<string, number>; totals: Record<string, number> }>('GET', '/v1/queues/stats');
    expect(stats.body.totals).toEqual({ SUCCEEDED: 40, FAILED: 40, CANCELLED: 40, DEAD_LETTERED: 80 });
    expect(Object.values(stats.body.running).reduce((a, b) => a + b, 0)).toBe(0);
  }, 300_000);
});
