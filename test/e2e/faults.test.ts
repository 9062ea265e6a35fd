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
  result?: { exitCode: number | null; outputTail: string };
  failure?: { reason: string; category: string; suggestedActions: string[] };
}

const JOBS = 200;
const FAULT_RATE = 0.02;

/** What each kind of job is, and where it must end (`effect`: it writes a side-effect file, see below). */
const KINDS = {
  effect: { spec: { maxAttempts: 5 }, status: 'SUCCEEDED', reason: undefined },
  exit1: { spec: { command: 'echo failing >&2; exit 1', maxAttempts: 2 }, status: 'DEAD_LETTERED', reason: 'NON_ZERO_EXIT_CODE' },
  missing: { spec: { command: 'forgeflow-no-such-command-e2e' }, status: 'FAILED', reason: 'COMMAND_NOT_FOUND' },
  timeout: { spec: { command: 'sleep 20', timeoutSeconds: 1, maxAttempts: 1 }, status: 'DEAD_LETTERED', reason: 'EXECUTION_TIMEOUT' },
  cancelled: { spec: { command: 'sleep 60' }, status: 'CANCELLED', reason: 'CANCELLED' },
} as const;
type Kind = keyof typeof KINDS;
/** Half the jobs write side effects; the other kinds share the rest. */
const kindOf = (i: number): Kind => (['effect', 'exit1', 'effect', 'missing', 'effect', 'timeout', 'effect', 'cancelled'] as const)[i % 8]!;

/**
 * The platform end to end over HTTP, under injected faults (issue 8's proof): 2% of the DynamoDB, SQS, Step
 * Functions and EventBridge calls of every handler and agent fail as AWS fails them (throttled, 500 before, or 500
 * after the request was applied), and one worker is killed with SIGKILL while it runs jobs. Every kind of job must
 * still end in its own state with its own reason, no command a live worker finished may run again, and every tenant
 * slot must come back.
 */
describe('End to end over HTTP: 200 mixed jobs at a 2% fault rate, a worker killed mid-run', { timeout: 420_000 }, () => {
  let runtime: LocalRuntime | undefined;
  afterAll(async () => {
    await runtime?.stop();
  });

  it('ends every job in its expected state with its reason, runs no success twice, and gives every slot back', async () => {
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
      // Most of the fleet's 32 slots, so runs still park and are admitted under the faults, and the test stays short.
      tenantSlotLimit: 24,
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

    const kinds: Kind[] = Array.from({ length: JOBS }, (_, i) => kindOf(i));
    const effectOf = (i: number) => join(sideEffects, `job-${i}`);
    // $PPID is the agent that runs it: a command whose worker is killed after it finished, before it could report,
    // must run again (nobody knows it succeeded); one whose worker lives must not.
    const effectCommand = (i: number) => `echo start $PPID >> ${effectOf(i)}; sleep 0.2; echo done $PPID >> ${effectOf(i)}`;
    const ids = await Promise.all(
      kinds.map(async (kind, i) => {
        const spec = kind === 'effect' ? { ...KINDS.effect.spec, command: effectCommand(i) } : KINDS[kind].spec;
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
    const victimPid = fleet.provider.pidOf(instance)!;
    process.kill(victimPid, 'SIGKILL');

    // Cancel the long ones, once each is held by a worker or still waiting: both paths must end CANCELLED.
    for (const [i, id] of ids.entries()) if (kinds[i] === 'cancelled') await api('DELETE', `/v1/jobs/${id}`);

    // The tenant's counters move in the same transactions as the jobs: one cheap read per poll.
    let totals: Record<string, number> = {};
    await waitFor('every job to end', async () => {
      totals = (await api<{ totals: Record<string, number> }>('GET', '/v1/queues/stats')).totals;
      return Object.values(totals).reduce((a, b) => a + b, 0) >= JOBS;
    }, 360_000, 500);
    const views = await Promise.all(ids.map((id) => api<JobView>('GET', `/v1/jobs/${id}`)));
    expect(views.every((v) => (TERMINAL_STATUSES as readonly string[]).includes(v.status))).toBe(true);
    const count = (...of: Kind[]) => kinds.filter((k) => of.includes(k)).length;
    expect(totals).toEqual({ SUCCEEDED: count('effect'), FAILED: count('missing'), CANCELLED: count('cancelled'), DEAD_LETTERED: count('exit1', 'timeout') });

    const outcomes = views.map((v, i) => ({ kind: kinds[i]!, status: v.status, reason: v.failure?.reason }));
    expect(outcomes.filter((o) => o.status !== KINDS[o.kind].status)).toEqual([]);
    // A job the killed worker held may end with WORKER_LOST as its last reason; any other reason must be its own.
    const wrongReason = outcomes.flatMap((o, i) => (o.reason === KINDS[o.kind].reason ? [] : [{ ...o, id: ids[i]! }]));
    for (const { id, reason } of wrongReason) {
      const { items } = await api<{ items: { type: string; data: { workerId?: string } }[] }>('GET', `/v1/jobs/${id}/events`);
      expect({ id, reason, ranOnVictim: items.some((e) => e.type === 'JobRunning' && e.data.workerId === victim) }).toEqual({ id, reason: 'WORKER_LOST', ranOnVictim: true });
    }
    const byKind = (kind: Kind) => views.filter((_, i) => kinds[i] === kind && !wrongReason.some((w) => w.id === ids[i]));
    expect(byKind('exit1').every((j) => j.attempts === 2 && j.result?.outputTail.includes('failing'))).toBe(true);
    expect(byKind('missing').every((j) => j.result?.exitCode === 127 && j.failure!.suggestedActions.length > 0)).toBe(true);
    expect(byKind('timeout').every((j) => j.failure!.category === 'user')).toBe(true);
    for (const [i, kind] of kinds.entries()) {
      if (kind !== 'effect') continue;
      const lines = readFileSync(effectOf(i), 'utf8').trim().split('\n');
      // It may have run more than once (the killed worker held it), but nothing ran after a live worker finished it.
      const finished = lines.findIndex((line) => line.startsWith('done') && line !== `done ${victimPid}`);
      expect(lines.at(-1), `job ${i}: ${lines.join(',')}`).toMatch(/^done /);
      if (finished !== -1) expect(finished, `job ${i}: ${lines.join(',')}`).toBe(lines.length - 1);
    }
    for (const [i, kind] of kinds.entries()) if (kind !== 'effect') expect(existsSync(effectOf(i))).toBe(false);

    const client = createDocumentClient({ endpoint: rt.dynamoDbEndpoint, region: LOCAL_REGION, credentials: rt.credentials });
    const { Item } = await client.send(new GetCommand({ TableName: localTableName(COUNTERS_TABLE), Key: slotKey(views[0]!.tenantId), ConsistentRead: true }));
    expect(Item?.inUse ?? 0).toBe(0);
    client.destroy();

    // The faults really happened, on every service the platform calls.
    const counts = rt.faults!.counts();
    for (const service of ['dynamodb', 'sqs', 'stepfunctions'] as const) expect(counts[service].throttled + counts[service].unavailable + counts[service].lostAnswer, service).toBeGreaterThan(0);
  });
});
