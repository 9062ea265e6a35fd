import { chmodSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TERMINAL_STATUSES } from '../../functions/core/job-status.ts';
import { cancelUntilAnswered, carefulClient, FAULT_SCENARIO_FLEET, killWorkerRunningAJob, ranAgainAfterFinishing, sideEffectCommand, slotsInUse } from '../../local/faults/scenario.ts';
import { LOAD_TEST_TENANT_RATE_LIMIT, startLocalRuntime, type LocalRuntime } from '../../local/runtime.ts';
import { waitFor } from '../support/wait.ts';
import { sharedDynamoDb } from '../support/dynamodb.ts';

interface JobView {
  jobId: string;
  tenantId: string;
  status: string;
  attempts: number;
  workerId?: string;
  result?: { exitCode: number | null; outputTail: string };
  failure?: { reason: string; message: string; category: string; suggestedActions: string[] };
}

/** GET /v1/jobs/{id}/events, the fields a failure's story is told with. */
interface EventsView {
  items: { type: string; time: string; data: { workerId?: string; attempts?: number } }[];
}

// Fifteen of each failing kind and sixty side effects: every path, at the size the suite's time allows
// (`npm run bench -- faults` runs 2,000).
const JOBS = 120;
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
describe(`End to end over HTTP: ${JOBS} mixed jobs at a 2% fault rate, a worker killed mid-run`, { timeout: 420_000 }, () => {
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
      sharedDynamoDb: sharedDynamoDb(),
      log: () => {},
      workers: 4,
      fleet: FAULT_SCENARIO_FLEET,
      tenantRateLimit: LOAD_TEST_TENANT_RATE_LIMIT,
      // Most of the fleet's 32 slots, so runs still park and are admitted under the faults, and the test stays short.
      tenantSlotLimit: 24,
      faults: { rate: FAULT_RATE, seed: 20261130 },
    });
    const rt = runtime;
    const api = carefulClient(rt);

    const kinds: Kind[] = Array.from({ length: JOBS }, (_, i) => kindOf(i));
    const effectOf = (i: number) => join(sideEffects, `job-${i}`);
    const ids = await Promise.all(
      kinds.map(async (kind, i) => {
        const spec = kind === 'effect' ? { ...KINDS.effect.spec, command: sideEffectCommand(effectOf(i)) } : KINDS[kind].spec;
        return (await api<JobView>('POST', '/v1/jobs', spec, { 'idempotency-key': `faults-${i}` })).jobId;
      }),
    );
    expect(new Set(ids).size).toBe(JOBS);

    // Kill one worker while it holds running jobs; its jobs must run again elsewhere.
    const killed = await killWorkerRunningAJob(rt, api);
    expect(killed, 'a worker running jobs').toBeDefined();
    const { workerId: victim, pid: victimPid } = killed!;

    // Cancel the long ones, once each is held by a worker or still waiting: both paths must end CANCELLED. All at
    // once, as a user's script would: one at a time took 15 s here (0.3 to 2 s each on a machine this busy).
    const cancels = await Promise.all(ids.flatMap((id, i) => (kinds[i] === 'cancelled' ? [cancelUntilAnswered(api, id)] : [])));
    // A `sleep 60` cannot have ended yet: each cancel was accepted, whether the job was held or waiting.
    expect(cancels.filter((answer) => answer !== 'accepted')).toEqual([]);

    // The tenant's counters move in the same transactions as the jobs: one cheap read per poll.
    let totals: Record<string, number> = {};
    await waitFor('every job to end', async () => {
      totals = (await api<{ totals: Record<string, number> }>('GET', '/v1/queues/stats')).totals;
      return Object.values(totals).reduce((a, b) => a + b, 0) >= JOBS;
    }, 360_000, 500);
    const views = await Promise.all(ids.map((id) => api<JobView>('GET', `/v1/jobs/${id}`)));
    expect(views.filter((v) => !(TERMINAL_STATUSES as readonly string[]).includes(v.status)).map((v) => [v.jobId, v.status]), JSON.stringify(totals)).toEqual([]);
    const outcomes = views.map((v, i) => ({ kind: kinds[i]!, status: v.status, reason: v.failure?.reason }));
    // A job that ended in another state than its kind's, told with its history: what a failure here is read from.
    const wrongStatus = outcomes.flatMap((o, i) => (o.status === KINDS[o.kind].status ? [] : [{ ...o, id: ids[i]! }]));
    const histories = await Promise.all(wrongStatus.map(({ id }) => api<EventsView>('GET', `/v1/jobs/${id}/events`)));
    expect(wrongStatus, JSON.stringify({ victim, histories: histories.map((h) => h.items.map((e) => [e.type, e.time, e.data.workerId])) })).toEqual([]);
    const count = (...of: Kind[]) => kinds.filter((k) => of.includes(k)).length;
    expect(totals).toEqual({ SUCCEEDED: count('effect'), FAILED: count('missing'), CANCELLED: count('cancelled'), DEAD_LETTERED: count('exit1', 'timeout') });
    // A job the killed worker held may end with WORKER_LOST as its last reason; any other reason must be its own.
    const wrongReason = outcomes.flatMap((o, i) => (o.reason === KINDS[o.kind].reason ? [] : [{ ...o, id: ids[i]! }]));
    for (const { id, reason } of wrongReason) {
      const { items } = await api<EventsView>('GET', `/v1/jobs/${id}/events`);
      // On a failure, the job's failure message and history say which path declared it lost (the reaper or the DLQ).
      const story = JSON.stringify({ victim, failure: views[ids.indexOf(id)]!.failure?.message, events: items.map((e) => [e.type, e.time, e.data.workerId, e.data.attempts]) });
      expect({ id, reason, ranOnVictim: items.some((e) => e.type === 'JobRunning' && e.data.workerId === victim) }, story).toEqual({ id, reason: 'WORKER_LOST', ranOnVictim: true });
    }
    const byKind = (kind: Kind) => views.filter((_, i) => kinds[i] === kind && !wrongReason.some((w) => w.id === ids[i]));
    expect(byKind('exit1').every((j) => j.attempts === 2 && j.result?.outputTail.includes('failing'))).toBe(true);
    expect(byKind('missing').every((j) => j.result?.exitCode === 127 && j.failure!.suggestedActions.length > 0)).toBe(true);
    expect(byKind('timeout').every((j) => j.failure!.category === 'user')).toBe(true);
    for (const [i, kind] of kinds.entries()) {
      if (kind !== 'effect') continue;
      const lines = readFileSync(effectOf(i), 'utf8').trim().split('\n');
      // It may have run more than once (the killed worker held it), but nothing ran after a live worker finished it.
      expect(lines.at(-1), `job ${i}: ${lines.join(',')}`).toMatch(/^done /);
      expect(ranAgainAfterFinishing(lines, victimPid), `job ${i}: ${lines.join(',')}`).toBe(false);
    }
    for (const [i, kind] of kinds.entries()) if (kind !== 'effect') expect(existsSync(effectOf(i))).toBe(false);

    expect(await slotsInUse(rt, views[0]!.tenantId)).toBe(0);

    // The faults really happened, on every service the platform calls.
    const counts = rt.faults!.counts();
    for (const service of ['dynamodb', 'sqs', 'stepfunctions'] as const) expect(counts[service].throttled + counts[service].unavailable + counts[service].lostAnswer, service).toBeGreaterThan(0);
  });
});
