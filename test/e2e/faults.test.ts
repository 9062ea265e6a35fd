import { chmodSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../functions/adapters/dynamodb/client.ts';
import { slotKey } from '../../functions/adapters/dynamodb/job-store.ts';
import { TERMINAL_STATUSES } from '../../functions/core/job-status.ts';
import { localTableName, COUNTERS_TABLE } from '../../functions/declarations/tables.ts';
import { LOCAL_REGION } from '../../local/dynamodb-local.ts';
import { LOAD_TEST_TENANT_RATE_LIMIT, startLocalRuntime, type LocalRuntime } from '../../local/runtime.ts';
import { waitFor } from '../support/wait.ts';

interface JobView {
  jobId: string;
  tenantId: string;
  status: string;
  attempts: number;
  workerId?: string;
  failure?: { reason: string };
}

type Kind = 'succeed' | 'fail' | 'cancel';
const EXPECTED: Record<Kind, string> = { succeed: 'SUCCEEDED', fail: 'DEAD_LETTERED', cancel: 'CANCELLED' };
const JOBS = 200;
const FAULT_RATE = 0.02;

/**
 * The platform under injected faults (issue 8's proof): 2% of the DynamoDB, SQS, Step Functions and EventBridge
 * calls of every handler and agent fail as AWS fails them (throttled, 500 before, or 500 after the request was
 * applied), and one worker is killed with SIGKILL while it runs jobs. Every job must still end as its command says,
 * no command that succeeded may run again, and every tenant slot must come back.
 */
describe('200 jobs at a 2% fault rate with a worker killed mid-run', { timeout: 420_000 }, () => {
  let runtime: LocalRuntime | undefined;
  afterAll(async () => {
    await runtime?.stop();
  });

  it('ends every job as its command says, runs no success twice, and gives every slot back', async () => {
    const sideEffects = mkdtempSync(join(tmpdir(), 'ff-faults-effects-'));
    // Jobs run as an unprivileged user when the tests run as root.
    chmodSync(sideEffects, 0o777);
    runtime = await startLocalRuntime({
      home: mkdtempSync(join(tmpdir(), 'ff-faults-')),
      port: 0,
      log: () => {},
      workers: 4,
      fleet: { minWorkers: 4, maxWorkers: 4, slotsPerWorker: 8, heartbeatIntervalSeconds: 1, scaleIntervalMs: 500, reapIntervalMs: 1000 },
      tenantRateLimit: LOAD_TEST_TENANT_RATE_LIMIT,
      faults: { rate: FAULT_RATE, seed: 20261130 },
    });
    const rt = runtime;
    const headers = { authorization: `Bearer ${rt.tokens.user}`, 'content-type': 'application/json' };
    // A client as a careful user writes it: a 5xx (the API's own retries ran out under the faults) is retried, and
    // the Idempotency-Key makes a retried submit the same job.
    const api = async <T>(method: string, path: string, body?: unknown, extra: Record<string, string> = {}): Promise<T> => {
      for (let attempt = 1; ; attempt++) {
        const res = await fetch(`${rt.url}${path}`, { method, headers: { ...headers, ...extra }, body: body === undefined ? undefined : JSON.stringify(body) });
        if (res.status < 500 || attempt === 5) return (await res.json()) as T;
      }
    };

    const kinds: Kind[] = Array.from({ length: JOBS }, (_, i) => (i % 20 === 0 ? 'cancel' : i % 10 === 5 ? 'fail' : 'succeed'));
    const effectOf = (i: number) => join(sideEffects, `job-${i}`);
    const command = (kind: Kind, i: number) =>
      kind === 'succeed' ? `echo start >> ${effectOf(i)}; sleep 0.3; echo done >> ${effectOf(i)}` : kind === 'fail' ? 'echo failing; exit 3' : 'sleep 60';
    const ids = await Promise.all(
      kinds.map(async (kind, i) => {
        const spec = { command: command(kind, i), maxAttempts: kind === 'fail' ? 1 : 5, timeoutSeconds: 120 };
        return (await api<JobView>('POST', '/v1/jobs', spec, { 'idempotency-key': `faults-${i}` })).jobId;
      }),
    );
    expect(new Set(ids).size).toBe(JOBS);

    // Kill one worker while it holds running jobs; its jobs must run again elsewhere.
    const fleet = rt.fleet!;
    let victim: string | undefined;
    await waitFor('a worker running jobs', async () => {
      const { items } = await api<{ items: JobView[] }>('GET', '/v1/jobs?status=RUNNING&limit=1');
      victim = items[0]?.workerId;
      return victim !== undefined;
    }, 120_000, 200);
    const instance = (await fleet.fleet.context.store.get(victim!))!.instanceId!;
    process.kill(fleet.provider.pidOf(instance)!, 'SIGKILL');

    // Cancel the long ones, once each is held by a worker or still waiting: both paths must end CANCELLED.
    for (const [i, id] of ids.entries()) if (kinds[i] === 'cancel') await api('DELETE', `/v1/jobs/${id}`);

    // The tenant's counters move in the same transactions as the jobs: one cheap read per poll.
    let totals: Record<string, number> = {};
    await waitFor('every job to end', async () => {
      totals = (await api<{ totals: Record<string, number> }>('GET', '/v1/queues/stats')).totals;
      return Object.values(totals).reduce((a, b) => a + b, 0) >= JOBS;
    }, 360_000, 500);
    const views = await Promise.all(ids.map((id) => api<JobView>('GET', `/v1/jobs/${id}`)));
    expect(views.every((v) => (TERMINAL_STATUSES as readonly string[]).includes(v.status))).toBe(true);
    const count = (kind: Kind) => kinds.filter((k) => k === kind).length;
    expect(totals).toEqual({ SUCCEEDED: count('succeed'), FAILED: 0, CANCELLED: count('cancel'), DEAD_LETTERED: count('fail') });

    const wrong = views.map((v, i) => ({ i, kind: kinds[i]!, status: v.status, failure: v.failure?.reason })).filter((v) => v.status !== EXPECTED[v.kind]);
    expect(wrong).toEqual([]);
    for (const [i, kind] of kinds.entries()) {
      if (kind !== 'succeed') continue;
      const lines = readFileSync(effectOf(i), 'utf8').trim().split('\n');
      // It may have started more than once (its worker died under it), but nothing ran after it succeeded.
      expect(lines.indexOf('done'), `job ${i}: ${lines.join(',')}`).toBe(lines.length - 1);
    }
    for (const [i, kind] of kinds.entries()) if (kind !== 'succeed') expect(existsSync(effectOf(i))).toBe(false);

    const client = createDocumentClient({ endpoint: rt.dynamoDbEndpoint, region: LOCAL_REGION, credentials: rt.credentials });
    const { Item } = await client.send(new GetCommand({ TableName: localTableName(COUNTERS_TABLE), Key: slotKey(views[0]!.tenantId), ConsistentRead: true }));
    expect(Item?.inUse ?? 0).toBe(0);
    client.destroy();

    // The faults really happened, on every service the platform calls.
    const counts = rt.faults!.counts();
    for (const service of ['dynamodb', 'sqs', 'stepfunctions'] as const) expect(counts[service].throttled + counts[service].unavailable + counts[service].lostAnswer, service).toBeGreaterThan(0);
  });
});
