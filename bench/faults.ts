import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TERMINAL_STATUSES } from '../functions/core/job-status.ts';
import { carefulClient, FAULT_SCENARIO_FLEET, killWorkerRunningAJob, ranAgainAfterFinishing, sideEffectCommand, slotsInUse } from '../local/faults/scenario.ts';
import { LOAD_TEST_TENANT_RATE_LIMIT, startLocalRuntime } from '../local/runtime.ts';

export interface FaultBenchResult {
  rate: number;
  jobs: number;
  seconds: number;
  /** Commands that ran again after a live worker had finished them: must be 0. */
  duplicateSideEffects: number;
  /** Jobs not in a terminal state when the bench gave up waiting: must be 0. */
  stuck: number;
  /** Jobs whose terminal state is not what their command implies. */
  wrongOutcome: number;
  slotsLeft: number;
  faults: Record<string, number>;
}

const SUBMIT_CONCURRENCY = 16;

/**
 * Many jobs through the local runtime with a fraction of every AWS call failing, and one worker killed with SIGKILL
 * a third of the way through; then counts what must be zero. Nine jobs in ten write a side-effect file (start, then
 * done, with the agent's pid), one in ten exits 3 and must end DEAD_LETTERED.
 */
export async function benchFaults(options: { jobs: number; rate: number; seed?: number; timeoutMs?: number }): Promise<FaultBenchResult> {
  const effects = mkdtempSync(join(tmpdir(), 'ff-bench-effects-'));
  chmodSync(effects, 0o777);
  const home = mkdtempSync(join(tmpdir(), 'ff-bench-faults-'));
  const runtime = await startLocalRuntime({
    home,
    port: 0,
    log: () => {},
    workers: 4,
    fleet: FAULT_SCENARIO_FLEET,
    tenantRateLimit: LOAD_TEST_TENANT_RATE_LIMIT,
    // More of the tenant's jobs at once than the fleet's slots, so admission is not what the bench measures.
    tenantSlotLimit: 64,
    faults: { rate: options.rate, seed: options.seed ?? 1 },
  });
  const started = Date.now();
  try {
    const call = carefulClient(runtime);
    const inBatches = async <T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> => {
      const results: R[] = [];
      for (let i = 0; i < items.length; i += SUBMIT_CONCURRENCY) results.push(...(await Promise.all(items.slice(i, i + SUBMIT_CONCURRENCY).map(fn))));
      return results;
    };
    const effect = (i: number) => join(effects, `job-${i}`);
    const fails = (i: number) => i % 10 === 9;
    const ids: string[] = new Array(options.jobs);
    let next = 0;
    let victimPid: number | undefined;
    await Promise.all(
      Array.from({ length: SUBMIT_CONCURRENCY }, async () => {
        while (next < options.jobs) {
          const i = next++;
          const command = fails(i) ? 'exit 3' : sideEffectCommand(effect(i));
          ids[i] = (await call<{ jobId: string }>('POST', '/v1/jobs', { command, maxAttempts: fails(i) ? 1 : 5 }, { 'idempotency-key': `bench-${i}` })).jobId;
          if (i === Math.floor(options.jobs / 3) && victimPid === undefined) victimPid = (await killWorkerRunningAJob(runtime, call, 10_000))?.pid;
        }
      }),
    );

    const deadline = Date.now() + (options.timeoutMs ?? 900_000);
    let ended = 0;
    while (Date.now() < deadline) {
      const { totals } = await call<{ totals: Record<string, number> }>('GET', '/v1/queues/stats');
      ended = Object.values(totals).reduce((a, b) => a + b, 0);
      if (ended >= options.jobs) break;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    const seconds = Math.round((Date.now() - started) / 100) / 10;
    const views = await inBatches(ids, (id) => call<{ status: string; tenantId: string }>('GET', `/v1/jobs/${id}`));
    const stuck = views.filter((v) => !(TERMINAL_STATUSES as readonly string[]).includes(v.status)).length;
    const wrongOutcome = views.filter((v, i) => v.status !== (fails(i) ? 'DEAD_LETTERED' : 'SUCCEEDED')).length;
    let duplicateSideEffects = 0;
    for (let i = 0; i < options.jobs; i++) {
      if (fails(i) || !existsSync(effect(i))) continue;
      if (ranAgainAfterFinishing(readFileSync(effect(i), 'utf8').trim().split('\n'), victimPid)) duplicateSideEffects++;
    }
    const counts = runtime.faults!.counts();
    const faults = Object.fromEntries(Object.entries(counts).map(([service, c]) => [service, c.throttled + c.unavailable + c.lostAnswer]));
    return { rate: options.rate, jobs: options.jobs, seconds, duplicateSideEffects, stuck, wrongOutcome, slotsLeft: await slotsInUse(runtime, views[0]!.tenantId), faults };
  } finally {
    await runtime.stop();
    rmSync(effects, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  }
}
