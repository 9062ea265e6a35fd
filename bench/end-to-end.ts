import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { ForgeflowClient } from '../client/index.ts';
import { createDocumentClient } from '../functions/adapters/dynamodb/client.ts';
import { executionArnOf, sagaExecutionName } from '../functions/declarations/statemachines.ts';
import { TERMINAL_STATUSES } from '../functions/core/job-status.ts';
import { localTableName, OUTBOX_TABLE } from '../functions/declarations/tables.ts';
import { LOCAL_REGION } from '../local/dynamodb-local.ts';
import { invocationCounts, invocationMillis } from '../local/lambda.ts';
import { LOAD_TEST_TENANT_RATE_LIMIT, startLocalRuntime, type LocalRuntime } from '../local/runtime.ts';
import { isLongPoll } from '../local/wire-operations.ts';
import { PRICE } from './prices.ts';
import { percentile, round } from './stats.ts';


interface JobView { jobId: string; status: string; createdAt: string; updatedAt: string }

/**
 * The jobs bench's fleet: 2 agents of 4 slots, pinned (the scaler may not add agents), so that at most 8 jobs run at
 * once, as on the BullMQ side (BULLMQ_CONCURRENCY). The local fleet's own maximum is 4 agents: unpinned, a burst
 * scaled ours to 16 slots against BullMQ's 8.
 */
export const BENCH_FLEET = { agents: 2, slotsPerAgent: 4 } as const;
export const BULLMQ_CONCURRENCY = BENCH_FLEET.agents * BENCH_FLEET.slotsPerAgent;

/**
 * A local runtime as the jobs bench runs one. With `countCalls`, fault proxies that fail nothing (rate 0) count every
 * call of handlers and agents on the wire. They are the bench's instrument, not the platform's: their hop costs the
 * runtime's process 3 to 4 ms of its 22 to 26 ms of CPU a job (measured warm), so the rounds against BullMQ run
 * without them, as `npm start` does. One tenant submits every job: its slot limit (20 held jobs by default) would
 * park most of the burst, and parking (a transaction, a wake-up, a claim that may lose to a newer run and park again)
 * is a tenant's fairness cap, not the pipeline this measures. BullMQ has no such cap either. Worker metrics are
 * priced per worker per month (docs/pricing.md), not per job: one collection at start, no more.
 */
export function startBenchRuntime(options: { home: string; jobs: number; inMemoryTables: boolean; countCalls: boolean }) {
  const { agents, slotsPerAgent } = BENCH_FLEET;
  const fleet = { collectIntervalMs: 3_600_000, maxWorkers: agents };
  const counting = options.countCalls ? { faults: { rate: 0 } } : {};
  return startLocalRuntime({ home: options.home, port: 0, log: () => {}, inMemoryTables: options.inMemoryTables, workers: agents, workerConcurrency: slotsPerAgent, tenantRateLimit: LOAD_TEST_TENANT_RATE_LIMIT, tenantSlotLimit: options.jobs, fleet, ...counting });
}

/**
 * Submits `jobs` `true` jobs, `batch` per request (1: each alone, POST /v1/jobs), `inFlight` requests at a time.
 * Returns the jobs' ids and the requests it took.
 */
export async function submitJobs(runtime: LocalRuntime, options: { jobs: number; batch: number; inFlight: number }): Promise<{ ids: string[]; requests: number }> {
  const headers = { authorization: `Bearer ${runtime.tokens.user}`, 'content-type': 'application/json' };
  const client = new ForgeflowClient({ baseUrl: runtime.url, token: runtime.tokens.user });
  const ids: string[] = [];
  const requests = Math.ceil(options.jobs / options.batch);
  let next = 0;
  await Promise.all(Array.from({ length: options.inFlight }, async () => {
    while (next < requests) {
      const size = Math.min(options.batch, options.jobs - next++ * options.batch);
      ids.push(...(options.batch === 1 ? [await submitOne(runtime.url, headers)] : await submitBatch(client, size)));
    }
  }));
  return { ids, requests };
}

/** Waits until `jobs` jobs in all have ended (or 5 minutes have passed), reading the queue stats every `pollMs`. */
export async function waitForEnds(runtime: LocalRuntime, jobs: number, pollMs = 1000): Promise<void> {
  const client = new ForgeflowClient({ baseUrl: runtime.url, token: runtime.tokens.user });
  const deadline = Date.now() + 300_000;
  for (;;) {
    const { totals } = await client.stats();
    const ended = TERMINAL_STATUSES.reduce((sum, status) => sum + totals[status], 0);
    if (ended >= jobs || Date.now() > deadline) return;
    // Throughput and latency come from the jobs' own timestamps, so a slow poll costs no accuracy, only fewer of
    // the bench's own calls among those it counts per job.
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/**
 * `batch`: jobs per submit request; 1 (the default) sends each alone. `inMemoryTables`: DynamoDB Local without its disk,
 * as the BullMQ side's Redis runs without persistence; by default the tables are on disk, as `npm start` keeps them.
 * `countCalls` (default true): count the calls on the wire and price them (`calls`); false measures the pace alone.
 */
export async function benchEndToEnd(options: { jobs: number; inFlight?: number; batch?: number; inMemoryTables?: boolean; countCalls?: boolean }) {
  const home = mkdtempSync(join(tmpdir(), 'ff-bench-e2e-'));
  const countCalls = options.countCalls ?? true;
  const runtime = await startBenchRuntime({ home, jobs: options.jobs, inMemoryTables: options.inMemoryTables ?? false, countCalls });
  const counter = countCalls ? startCounting(runtime) : undefined;
  try {
    const headers = { authorization: `Bearer ${runtime.tokens.user}` };
    const submitStarted = performance.now();
    // Single submits (POST /v1/jobs), or batches (POST /v1/jobs/batch) as BullMQ's side adds its jobs with addBulk.
    const batch = options.batch ?? 1;
    const { ids, requests } = await submitJobs(runtime, { jobs: options.jobs, batch, inFlight: options.inFlight ?? 8 });
    const submitSeconds = (performance.now() - submitStarted) / 1000;
    await waitForEnds(runtime, options.jobs);
    // Before the bench reads every job back: those reads are its own, not the platform's work per job.
    const counted = counter?.stop();
    const jobs = await Promise.all(ids.map(async (id) => (await (await fetch(`${runtime.url}/v1/jobs/${id}`, { headers })).json()) as JobView));
    const succeeded = jobs.filter((j) => j.status === 'SUCCEEDED');
    const latencies = succeeded.map((j) => Date.parse(j.updatedAt) - Date.parse(j.createdAt));
    const first = Math.min(...jobs.map((j) => Date.parse(j.createdAt)));
    const last = Math.max(...succeeded.map((j) => Date.parse(j.updatedAt)));
    return {
      jobs: options.jobs,
      batch,
      inMemoryTables: options.inMemoryTables ?? false,
      succeeded: succeeded.length,
      submitPerSecond: round(options.jobs / submitSeconds),
      jobsPerSecond: round(succeeded.length / ((last - first) / 1000)),
      p50Ms: round(percentile(latencies, 50)),
      p99Ms: round(percentile(latencies, 99)),
      ...(counted ? { calls: await pricedCalls(runtime, counted, { ids, requests }) } : {}),
    };
  } finally {
    await runtime.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

/** Zeroes the runtime's counters; `stop` reads what the run called since, before the bench's own reads. */
function startCounting(runtime: LocalRuntime) {
  const wireBefore = runtime.faults!.operations();
  const tablesBefore = runtime.faults!.dynamoDbTables();
  invocationCounts.clear();
  invocationMillis.clear();
  runtime.backbone.sqs.requestCounts.clear();
  const publishedBefore = runtime.backbone.bus.published;
  return {
    stop: () => ({
      wire: callsOnTheWire(wireBefore, runtime.faults!.operations()),
      tables: Object.entries(runtime.faults!.dynamoDbTables()).map(([key, calls]) => [key, calls - (tablesBefore[key] ?? 0)] as const),
      sqs: new Map(runtime.backbone.sqs.requestCounts),
      lambdaRequests: [...invocationCounts.values()].reduce((a, b) => a + b, 0),
      lambdaMillis: [...invocationMillis.values()].reduce((a, b) => a + b, 0),
      events: runtime.backbone.bus.published - publishedBefore,
    }),
  };
}

/** Calls per job per service, and what they cost at list prices per 1,000 jobs. */
async function pricedCalls(runtime: LocalRuntime, counted: ReturnType<ReturnType<typeof startCounting>['stop']>, run: { ids: string[]; requests: number }) {
  const jobCount = run.ids.length;
  const transitions = run.ids.reduce((sum, id) => sum + runtime.saga.engine.history(executionArnOf(runtime.saga.stateMachineArn, sagaExecutionName(id, 1))).transitions, 0);
  // Items per state change, from the outbox rows the run wrote (each row is one transaction).
  const outbox = await createDocumentClient({ endpoint: runtime.dynamoDbEndpoint, region: LOCAL_REGION, credentials: runtime.credentials })
    .send(new ScanCommand({ TableName: localTableName(OUTBOX_TABLE), Select: 'COUNT' }));
  const gbSeconds = (counted.lambdaMillis / 1000) * 0.5;
  const sqsRequests = [...counted.sqs.values()].reduce((a, b) => a + b, 0);
  const wire = splitStreamReads(counted.wire);
  // Every SQS request, the consumers' pollers (Lambda's event source mappings in AWS) and the bus's deliveries
  // included, as the local SQS saw them: the proxy only sees the handlers' and agents' own calls.
  wire.sqs = Object.fromEntries([...counted.sqs].map(([action, calls]) => [action, { calls, items: calls }]));
  const { wru, rru } = capacityUnits(wire.dynamodb ?? {});
  const per1000 = (count: number) => (count / jobCount) * 1000;
  const cost = {
    stepFunctions: per1000(transitions) * PRICE.transition,
    lambda: per1000(counted.lambdaRequests) * PRICE.lambdaRequest + per1000(gbSeconds) * PRICE.lambdaGbSecond,
    apiGateway: per1000(run.requests) * PRICE.apiRequest,
    eventBridge: per1000(counted.events) * PRICE.event,
    sqs: per1000(sqsRequests) * PRICE.sqsRequest,
    dynamodb: per1000(wru) * PRICE.wru + per1000(rru) * PRICE.rru,
  };
  const perJob = (count: number) => round(count / jobCount, 2);
  return {
    transitionsPerJob: perJob(transitions),
    stateChangesPerJob: perJob(outbox.Count ?? 0),
    callsPerJob: { lambda: perJob(counted.lambdaRequests), sqs: perJob(sqsRequests), events: perJob(counted.events) },
    dynamoDbTablesPerJob: Object.fromEntries(
      counted.tables
        .map(([key, calls]) => [key, perJob(calls)] as const)
        .filter(([, calls]) => calls >= 0.05)
        .sort((a, b) => b[1] - a[1]),
    ),
    wirePerJob: Object.fromEntries(Object.entries(wire).map(([service, ops]) => [service, Object.fromEntries(Object.entries(ops).map(([op, c]) => [op, perJob(c.calls)]))])),
    costPer1000Jobs: Object.fromEntries(Object.entries(cost).map(([k, v]) => [k, round(v, 5)])),
    totalPer1000Jobs: round(Object.values(cost).reduce((a, b) => a + b, 0), 4),
  };
}

async function submitOne(url: string, headers: Record<string, string>): Promise<string> {
  const res = await fetch(`${url}/v1/jobs`, { method: 'POST', headers, body: JSON.stringify({ command: 'true' }) });
  return ((await res.json()) as JobView).jobId;
}

/** Through the client, as a user would batch: it keys every job, so its own retries queue nothing twice. */
async function submitBatch(client: ForgeflowClient, size: number): Promise<string[]> {
  const results = await client.submitBatch(Array.from({ length: size }, () => ({ job: { command: 'true' } })));
  const failed = results.filter((r) => r.outcome === 'failed');
  if (failed.length > 0) throw new Error(`a batch submit refused ${failed.length} jobs: ${JSON.stringify(failed[0])}`);
  return results.map((r) => (r.outcome === 'failed' ? '' : r.job.jobId));
}

type Wire = Record<string, Record<string, { calls: number; items: number }>>;

/** What the run called, per service and operation: the counts after, less those of the start-up. */
function callsOnTheWire(before: Wire, after: Wire): Wire {
  return Object.fromEntries(
    Object.entries(after).map(([service, ops]) => [
      service,
      Object.fromEntries(Object.entries(ops).map(([op, c]) => [op, { calls: c.calls - (before[service]?.[op]?.calls ?? 0), items: c.items - (before[service]?.[op]?.items ?? 0) }])),
    ]),
  );
}

/**
 * The DynamoDB Streams API shares DynamoDB's endpoint, so its calls arrive among the tables'. They are apart here:
 * in AWS, Lambda's event source mapping reads the stream for the relay, and those reads are neither our calls nor
 * billed; the local stream poller stands in for it.
 */
const STREAM_OPERATIONS = new Set(['DescribeStream', 'GetRecords', 'GetShardIterator', 'ListStreams']);

function splitStreamReads(wire: Wire): Wire {
  const dynamodb = Object.entries(wire.dynamodb ?? {});
  return {
    ...wire,
    dynamodb: Object.fromEntries(dynamodb.filter(([op]) => !STREAM_OPERATIONS.has(op))),
    'dynamodb-streams': Object.fromEntries(dynamodb.filter(([op]) => STREAM_OPERATIONS.has(op))),
  };
}

/**
 * DynamoDB on-demand units from the calls made, for items up to 1 KB (writes) and 4 KB (reads), which the job's
 * items are: a transaction's items cost twice; reads are strongly consistent. A lower bound for larger items.
 */
function capacityUnits(dynamodb: Record<string, { calls: number; items: number }>): { wru: number; rru: number } {
  const n = (op: string, what: 'calls' | 'items' = 'calls') => dynamodb[op]?.[what] ?? 0;
  return {
    wru: 2 * n('TransactWriteItems', 'items') + n('PutItem') + n('UpdateItem') + n('DeleteItem') + n('BatchWriteItem', 'items'),
    rru: 2 * n('TransactGetItems', 'items') + n('GetItem') + n('Query') + n('BatchGetItem', 'items'),
  };
}

export function printEndToEnd(r: Awaited<ReturnType<typeof benchEndToEnd>>): void {
  console.log(`submit only (API + commit)   ${r.submitPerSecond} jobs/s  (${r.batch === 1 ? 'each job alone' : `${r.batch} jobs per request`}, while the jobs run; tables ${r.inMemoryTables ? 'in memory' : 'on disk'})`);
  console.log(`submit → SUCCEEDED           ${r.jobsPerSecond} jobs/s  p50 ${r.p50Ms} ms  p99 ${r.p99Ms} ms  (${r.succeeded}/${r.jobs} succeeded)`);
  if (r.calls) printCalls(r.calls);
}

function printCalls(calls: Awaited<ReturnType<typeof pricedCalls>>): void {
  console.log(`state transitions per job    ${calls.transitionsPerJob} (Step Functions), ${calls.stateChangesPerJob} job state changes`);
  console.log(`calls per job                lambda ${calls.callsPerJob.lambda}, sqs ${calls.callsPerJob.sqs}, events ${calls.callsPerJob.events}`);
  for (const [service, ops] of Object.entries(calls.wirePerJob)) {
    const total = round(Object.entries(ops).filter(([op]) => !isLongPoll(op)).reduce((sum, [, c]) => sum + c, 0), 2);
    const each = Object.entries(ops).filter(([, c]) => c > 0).map(([op, c]) => `${op} ${c}`).join(', ');
    const note = service === 'sqs' ? ' (long polls apart)' : service === 'dynamodb-streams' ? " (the relay's event source mapping in AWS: free)" : '';
    console.log(`  on the wire, ${service.padEnd(16)} ${total} per job${note}: ${each}`);
  }
  const byTable = Object.entries(calls.dynamoDbTablesPerJob).map(([key, perJob]) => `${key.replaceAll('forgeflow-', '')} ${perJob}`);
  console.log(`  dynamodb by table          ${byTable.join(', ')}`);
  console.log(`AWS cost per 1,000 jobs      $${calls.totalPer1000Jobs} (EC2 excluded; docs/pricing.md): ${JSON.stringify(calls.costPer1000Jobs)}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
  printEndToEnd(await benchEndToEnd({ jobs: Number(process.argv[2] ?? 500) }));
}
