import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../../functions/adapters/dynamodb/client.ts';
import { slotKey } from '../../functions/adapters/dynamodb/job-counters.ts';
import type { ErrorCode } from '../../functions/api/http.ts';
import { COUNTERS_TABLE, localTableName } from '../../functions/declarations/tables.ts';
import { LOCAL_REGION } from '../dynamodb-local.ts';
import type { LocalFleetSettings } from '../fleet/local-fleet.ts';
import type { LocalRuntime } from '../runtime.ts';

/**
 * The pieces the fault-injection test (test/e2e/faults.test.ts) and bench (bench/faults.ts) share: the fleet they
 * run, the client they submit with, the worker they kill, and how they read side effects and slots afterwards.
 */

/**
 * Four agents of eight slots, with the fleet's loops fast enough for a kill to be noticed within seconds. Heartbeats
 * every 2 s, as `npm start` has them, so a worker is lost after 8 s of silence: at 1 s (lost after 4 s) a live worker
 * whose heartbeats were late on a starved machine (the suite, faults retried with backoff) was removed twice, and its
 * jobs failed WORKER_LOST or ran again after it had finished them. The killed worker's jobs come back within the
 * agents' 10 s visibility window either way.
 */
export const FAULT_SCENARIO_FLEET: LocalFleetSettings = { minWorkers: 4, maxWorkers: 4, slotsPerWorker: 8, heartbeatIntervalSeconds: 2, scaleIntervalMs: 500, reapIntervalMs: 1000 };

export type ApiCall = <T>(method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<T>;

const CLIENT_ATTEMPTS = 8;

/**
 * A client as a careful user writes it: a 5xx (the API's own retries ran out under the faults) or a dropped
 * connection is retried, and an Idempotency-Key header makes a retried submit the same job.
 */
export function carefulClient(runtime: LocalRuntime, token = runtime.tokens.user): ApiCall {
  const base = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  return async <T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await fetch(`${runtime.url}${path}`, { method, headers: { ...base, ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
        if (res.status < 500 || attempt === CLIENT_ATTEMPTS) return (await res.json()) as T;
      } catch (error) {
        if (attempt === CLIENT_ATTEMPTS) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  };
}

/** What DELETE /v1/jobs/{id} finally said: the cancel was accepted, or the job had ended before it. */
export type CancelAnswer = 'accepted' | 'ended';

/** Answers to a cancel that no retry changes. */
const CANCEL_REFUSALS: readonly ErrorCode[] = ['JOB_NOT_FOUND', 'FORBIDDEN', 'UNAUTHORIZED'];
const ENDED: ErrorCode = 'JOB_NOT_CANCELLABLE';

/**
 * Cancels a job as a careful user's script does: until the API gives a final answer, accepted (the job back) or
 * JOB_NOT_CANCELLABLE (it had ended). Any other answer (CONCURRENT_MODIFICATION says "try again"; the client hands
 * back a 5xx once its own retries are spent) is tried again within `deadlineMs`, then thrown: a cancel that never
 * took effect fails where it happened, not later as a job that ran to the end.
 */
export async function cancelUntilAnswered(call: ApiCall, jobId: string, deadlineMs = 60_000): Promise<CancelAnswer> {
  let last: unknown;
  for (const deadline = Date.now() + deadlineMs; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 250))) {
    const answer = await call<{ jobId?: string; code?: ErrorCode }>('DELETE', `/v1/jobs/${jobId}`);
    if (answer.jobId === jobId) return 'accepted';
    if (answer.code === ENDED) return 'ended';
    if (answer.code && CANCEL_REFUSALS.includes(answer.code)) throw new Error(`Cancelling ${jobId}: ${JSON.stringify(answer)}`);
    last = answer;
  }
  throw new Error(`Cancelling ${jobId}: no final answer within ${deadlineMs} ms; the last was ${JSON.stringify(last)}`);
}

/**
 * A command that writes `start <agent pid>` then `done <agent pid>` to `file`. $PPID is the agent that runs it: a
 * command whose worker is killed after it finished, before it could report, must run again (nobody knows it
 * succeeded); one whose worker lives must not.
 */
export const sideEffectCommand = (file: string) => `echo start $PPID >> ${file}; sleep 0.2; echo done $PPID >> ${file}`;

/** Whether anything ran after a live worker (not the killed one) finished the command: a duplicate side effect. */
export function ranAgainAfterFinishing(lines: readonly string[], victimPid: number | undefined): boolean {
  const finished = lines.findIndex((line) => line.startsWith('done') && line !== `done ${victimPid}`);
  return finished !== -1 && finished !== lines.length - 1;
}

/** SIGKILLs the agent of a worker that runs a job now, waiting until one does; undefined if none did in time. */
export async function killWorkerRunningAJob(runtime: LocalRuntime, call: ApiCall, timeoutMs = 120_000): Promise<{ workerId: string; pid: number } | undefined> {
  const fleet = runtime.fleet!;
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 100))) {
    const { items } = await call<{ items: { workerId?: string }[] }>('GET', '/v1/jobs?status=RUNNING&limit=1');
    const workerId = items[0]?.workerId;
    const instance = workerId ? (await fleet.fleet.context.store.get(workerId))?.instanceId : undefined;
    const pid = instance ? fleet.provider.pidOf(instance) : undefined;
    if (workerId && pid) {
      process.kill(pid, 'SIGKILL');
      return { workerId, pid };
    }
  }
  return undefined;
}

/** The tenant's slots in use, read straight from DynamoDB Local. */
export async function slotsInUse(runtime: LocalRuntime, tenantId: string): Promise<number> {
  const client = createDocumentClient({ endpoint: runtime.dynamoDbEndpoint, region: LOCAL_REGION, credentials: runtime.credentials });
  try {
    const { Item } = await client.send(new GetCommand({ TableName: localTableName(COUNTERS_TABLE), Key: slotKey(tenantId), ConsistentRead: true }));
    return Number(Item?.inUse ?? 0);
  } finally {
    client.destroy();
  }
}
