import { join, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { HTTP_FUNCTION_NAMES, HTTP_FUNCTIONS } from '../functions/declarations/http-functions.ts';
import { localTableName, TABLES } from '../functions/declarations/tables.ts';
import { AGENT_FLEET_ENV } from '../functions/declarations/workers.ts';
import { FLEET_ENV } from '../functions/fleet/config.ts';
import { LOCAL_REGION, type LaunchedDynamoDbLocal, type LocalCredentials } from './dynamodb-local.ts';
import { assertApiPortFree, launchHomeDynamoDb } from './runtime-start.ts';
import { loadOrCreateLocalCredentials } from './credentials.ts';
import { startHttpGateway, type GatewayHandler, type GatewayIntegrations } from './http-gateway.ts';
import { ensureTables } from './tables.ts';
import { createVerifier, issueLocalTokens, loadOrCreateSigningKey, type LocalTokens } from './tokens.ts';
import { startEventBackbone, type EventBackbone } from './event-backbone.ts';
import { importHandler, invoker, setEnvironment } from './lambda.ts';
import { recoverJobs, type RecoveryReport } from './recovery.ts';
import { createSagaRuntime, stepFunctionsOperations, type SagaRuntime } from './saga-runtime.ts';
import { LOCAL_CONTROL_FUNCTION, LOCAL_STACK_NAME, startLocalFleet, type LocalFleet, type LocalFleetSettings } from './fleet/local-fleet.ts';
import { createDocumentClient } from '../functions/adapters/dynamodb/client.ts';
import { JOBS_TABLE } from '../functions/declarations/tables.ts';
import { SAGA_CONFIG_ENV, sagaServiceFromEnv } from '../functions/saga/wiring.ts';
import { tenantRateLimitEnvironment } from '../functions/api/tenant-rate-limit.ts';
import type { BucketConfig } from '../functions/core/token-bucket.ts';
import type { FaultOptions } from './faults/fault-proxy.ts';
import { injectFaults, type RuntimeFaults } from './faults/runtime-faults.ts';
import { startLocalMetrics, type LocalMetrics } from './prometheus.ts';
import { localConsoleSite } from './console-site.ts';
import { FileJobLogStore } from '../functions/adapters/file/job-log-store.ts';
import { JOB_LOGS } from '../functions/declarations/job-logs.ts';

export interface LocalRuntimeOptions {
  /** FORGEFLOW_HOME: the signing key and the DynamoDB data live here, so a restart keeps both. */
  home: string;
  /** The API port on 127.0.0.1; 0 picks a free one. */
  port: number;
  /** Defaults to a free port. */
  dynamoPort?: number;
  /**
   * DynamoDB Local keeps its tables in memory, not under `home`: nothing survives a stop. For runs that never restart
   * (benchmarks, most tests); it spares the disk writes of every commit. Default false: `npm start` keeps its data.
   */
  inMemoryTables?: boolean;
  /**
   * A DynamoDB Local that is already running with one database per access key (the tests' shared instance): this
   * home's tables go there, under this home's key, instead of into a DynamoDB Local of its own. Each home's key is
   * its own, so two runtimes never see each other's data; the tables last as long as that instance. It spares a Java
   * start (about 4 s of CPU, then a cold JIT) per runtime. `dynamoPort` and `inMemoryTables` do not apply.
   */
  sharedDynamoDb?: { endpoint: string };
  /**
   * This home's own DynamoDB Local, launched by the caller (launchHomeDynamoDb) before it loaded this module, so
   * that Java starts while the modules load (`npm start`). The runtime owns it from here: it stops it at its stop,
   * or at once if its start fails. `dynamoPort` and `inMemoryTables` were the caller's to apply.
   */
  launchedDynamoDb?: LaunchedDynamoDbLocal;
  log: (message: string) => void;
  /** The api's direct publish after commit (the relay publishes too). Default true, as in AWS. */
  optimisticPublish?: boolean;
  /**
   * The fleet's minimum: agent processes kept running even when idle (default 1, the class's local minimum), and
   * the jobs each runs at once (default: the class's slots). 0 workers with no `fleet` settings: no fleet at all.
   */
  workers?: number;
  workerConcurrency?: number;
  /** Further local fleet settings (maximum, idle timeout, intervals); see LOCAL_FLEET_DEFAULTS. */
  fleet?: LocalFleetSettings;
  /**
   * The api's per-tenant request limit, kept in DynamoDB Local as in AWS. Absent: TENANT_RATE_LIMIT_BURST and
   * TENANT_RATE_LIMIT_PER_SECOND if the shell sets them, else AWS's defaults. Load tests and benches raise it.
   */
  tenantRateLimit?: BucketConfig;
  /** How many jobs a tenant runs at once (TENANT_SLOT_LIMIT of ClaimJob and ParkJob); default 20, as in AWS. */
  tenantSlotLimit?: number;
  /**
   * Fails this fraction of the DynamoDB, SQS, Step Functions and EventBridge calls of every handler and agent, as
   * AWS fails them (local/faults/): the fault-injection test and bench. Never set by `npm start`.
   */
  faults?: FaultOptions;
}

export interface LocalRuntime {
  url: string;
  port: number;
  dynamoDbEndpoint: string;
  /** This home's DynamoDB Local key: without it a client sees none of the data. */
  credentials: LocalCredentials;
  backbone: EventBackbone;
  saga: SagaRuntime;
  /** The local fleet: scaler, reaper and agent processes as workers; absent when started without workers. */
  fleet?: LocalFleet;
  /** What the start found in the data folder and carried on. */
  recovery: RecoveryReport;
  /** Present when started with `faults`: what was injected so far. */
  faults?: RuntimeFaults;
  /** Fresh tokens for the three local personas, signed with the persisted key. */
  tokens: LocalTokens;
  /** What `GET /metrics` serves (local/prometheus.ts). */
  metrics: LocalMetrics;
  /** Closes the gateway, then stops DynamoDB Local. Safe to call more than once. */
  stop(): Promise<void>;
}

/** For load tests and benches: they measure the platform, not one tenant's share of it. */
export const LOAD_TEST_TENANT_RATE_LIMIT: BucketConfig = { burst: 100_000, refillPerSecond: 100_000 };

/** What getRemainingTimeInMillis counts down from: an API function's timeout stays under the 30 s integration limit. */
const FUNCTION_TIMEOUT_MS = 29_000;

// The handler reads its configuration from process.env, which is process-wide, so two runtimes would fight over it.
let running = false;

/**
 * Starts what `npm start` serves: DynamoDB Local with the declared tables, then the HTTP functions' handlers behind
 * the HTTP API emulation, each behind the routes HTTP_FUNCTIONS gives it. The handlers are the very modules Lambda
 * runs, wired by the environment variables they read in AWS.
 */
export async function startLocalRuntime(options: LocalRuntimeOptions): Promise<LocalRuntime> {
  if (running) throw new Error('A local runtime is already running in this process; stop it before starting another.');
  running = true;
  const home = resolve(options.home);
  // Undone in reverse order by stop(), or at once if start fails half way: no Java process outlives a failed start.
  const undo: Array<() => Promise<void> | void> = [];
  const stopAll = async () => {
    for (const step of undo.reverse()) await step();
    undo.length = 0;
    running = false;
  };
  const launched = options.launchedDynamoDb;
  if (launched) undo.push(() => launched.stop());
  try {
    // Before starting Java (`npm start` checked before launching its own), so a taken port fails in milliseconds.
    await assertApiPortFree(options.port);
    const key = await loadOrCreateSigningKey(home);
    const credentials = loadOrCreateLocalCredentials(home);

    const dynamo = options.sharedDynamoDb ? { ...options.sharedDynamoDb, ready: Promise.resolve() } : (launched ?? (await ownDynamoDb(options, home, undo)));
    // Until DynamoDB Local answers (about 2.5 s of Java), what needs no table goes on: the queues, the state
    // machines and every handler's import. Awaited below; the guard only keeps a failure before then from being
    // reported as unhandled.
    const tablesReady = dynamo.ready.then(() => createTables(dynamo.endpoint, credentials));
    tablesReady.catch(() => {});

    let saga: SagaRuntime | undefined;
    const backbone = await startEventBackbone((sqs) => {
      saga = createSagaRuntime(sqs);
      return stepFunctionsOperations(saga.engine);
    });
    undo.push(() => backbone.stop());
    undo.push(() => saga!.stop());
    // Tapped before anything can publish, so the counters see every event of this run.
    const metrics = startLocalMetrics({ backbone, dynamoDbEndpoint: dynamo.endpoint, credentials, log: options.log });
    undo.push(() => metrics.stop());
    // Job output (GET …/logs): the agents append, the api reads; kept as long as the log group keeps it in AWS.
    const jobLogDir = join(home, 'job-logs');
    await new FileJobLogStore(jobLogDir).pruneExpired();
    let environment: Record<string, string> = {
      ...lambdaEnvironment(dynamo.endpoint, options.optimisticPublish ?? true, credentials),
      [JOB_LOGS.dirEnvVar]: jobLogDir,
      ...backbone.env,
      ...saga!.env,
      ...FLEET_ENVIRONMENT,
      ...(options.tenantRateLimit ? tenantRateLimitEnvironment(options.tenantRateLimit) : {}),
      ...(options.tenantSlotLimit ? { [SAGA_CONFIG_ENV.tenantSlotLimit]: String(options.tenantSlotLimit) } : {}),
    };
    let faults: RuntimeFaults | undefined;
    if (options.faults) {
      ({ environment, faults } = await injectFaults(environment, options.faults));
      undo.push(() => faults!.close());
    }
    // What the functions reach DynamoDB through: DynamoDB Local, or its fault proxy.
    const functionsDynamoDb = environment.AWS_ENDPOINT_URL_DYNAMODB!;
    undo.push(setEnvironment(environment));
    await saga!.loadSteps(options.log);
    const integrations = await importHttpFunctions();
    await tablesReady;
    // Tables in a DynamoDB Local of this runtime's own, kept in memory, end with it, and their streams' positions too.
    const durableStreams = Boolean(options.sharedDynamoDb) || !options.inMemoryTables;
    await backbone.startFunctions({ dynamoDbEndpoint: functionsDynamoDb, credentials, home, durableStreams, log: options.log });
    const recovery = await recoverJobs({
      client: createDocumentClient({ endpoint: dynamo.endpoint, region: LOCAL_REGION, credentials }),
      jobsTable: localTableName(JOBS_TABLE),
      saga: sagaServiceFromEnv({ dispatch: false }),
      engine: saga!.engine,
      stateMachineArn: saga!.stateMachineArn,
    });
    let fleet: LocalFleet | undefined;
    if (options.workers !== 0 || options.fleet) {
      fleet = startLocalFleet({
        backbone,
        saga: saga!,
        dynamoDbEndpoint: functionsDynamoDb,
        credentials,
        agentEnv: () => agentEnvironment(environment),
        settings: { ...(options.workers === undefined ? {} : { minWorkers: options.workers }), ...(options.workerConcurrency ? { slotsPerWorker: options.workerConcurrency } : {}), ...options.fleet },
        log: options.log,
      });
      // Stopped before the services its agents talk to: they drain, answering or releasing what they hold.
      undo.push(() => fleet!.stop());
    }

    const tokens = await issueLocalTokens(key);
    // The console at /console (built on first visit), signing in with these tokens: loopback only.
    let consolePort = options.port;
    const staticSite = localConsoleSite({ tokens: () => tokens, port: () => consolePort, log: options.log });
    const gateway = await startHttpGateway({ handler: integrations, verify: createVerifier(key), port: options.port, log: options.log, metrics: () => metrics.scrape(), staticSite });
    undo.push(() => gateway.close());
    consolePort = gateway.port;
    let stopped: Promise<void> | undefined;
    return {
      url: gateway.url,
      port: gateway.port,
      dynamoDbEndpoint: dynamo.endpoint,
      credentials,
      backbone,
      saga: saga!,
      ...(fleet ? { fleet } : {}),
      recovery,
      tokens,
      metrics,
      ...(faults ? { faults } : {}),
      stop: () => (stopped ??= stopAll()),
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** Each HTTP function's handler, invoked as Lambda invokes it, under its own name (`forgeflow-workersApi-local`). */
async function importHttpFunctions(): Promise<GatewayIntegrations> {
  const entries = await Promise.all(
    HTTP_FUNCTION_NAMES.map(async (name) => {
      const handler = await importHandler<APIGatewayProxyEventV2, APIGatewayProxyResultV2>(`../${HTTP_FUNCTIONS[name].entry}`);
      return [name, invoker(`forgeflow-${name}-local`, handler, FUNCTION_TIMEOUT_MS)] as [string, GatewayHandler];
    }),
  );
  return Object.fromEntries(entries) as GatewayIntegrations;
}

/** What the workers-api function reads to reach the fleet (the same variables the CDK app sets). */
const FLEET_ENVIRONMENT = { [FLEET_ENV.stackName]: LOCAL_STACK_NAME, [FLEET_ENV.metricSources]: 'local' };

/**
 * What an agent process gets: what a worker's bootstrap writes on EC2, with local values and local pacing. As root
 * (a container, CI), jobs run as `nobody`, never as the agent's root (set FORGEFLOW_JOB_USER to choose another).
 */
function agentEnvironment(environment: Record<string, string>): Record<string, string> {
  const jobUser = process.env.FORGEFLOW_JOB_USER ?? (process.getuid?.() === 0 ? 'nobody' : undefined);
  return {
    ...environment,
    [AGENT_FLEET_ENV.controlFunction]: LOCAL_CONTROL_FUNCTION,
    // Short long-polls so Ctrl-C drains in about a second; there is no request cost locally.
    FORGEFLOW_IDLE_WAIT_SECONDS: '1',
    FORGEFLOW_DRAIN_TIMEOUT_SECONDS: '5',
    // A cancelled running job is noticed at the next heartbeat: every 2 s here, not every 10 s as on EC2.
    FORGEFLOW_LIVENESS_INTERVAL_SECONDS: '2',
    FORGEFLOW_VISIBILITY_EXTENSION_SECONDS: '10',
    ...(jobUser ? { FORGEFLOW_JOB_USER: jobUser } : {}),
  };
}

/** Every declared table, made if missing, once DynamoDB Local answers. */
async function createTables(endpoint: string, credentials: LocalCredentials): Promise<void> {
  const client = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials });
  try {
    await ensureTables(client, localTableName);
  } finally {
    client.destroy();
  }
}

/** This home's own DynamoDB Local (its tables on disk under `home`, or in memory), stopped by the runtime's stop. */
async function ownDynamoDb(options: LocalRuntimeOptions, home: string, undo: Array<() => Promise<void> | void>): Promise<LaunchedDynamoDbLocal> {
  const dynamo = await launchHomeDynamoDb(home, { inMemoryTables: options.inMemoryTables, port: options.dynamoPort });
  undo.push(() => dynamo.stop());
  return dynamo;
}

/** What the CDK app gives the HTTP functions, with local values: table names from the declarations, the local endpoint. */
function lambdaEnvironment(dynamoDbEndpoint: string, optimisticPublish: boolean, credentials: LocalCredentials): Record<string, string> {
  return {
    ...Object.fromEntries(TABLES.map((table) => [table.envVar, localTableName(table)])),
    AWS_ENDPOINT_URL_DYNAMODB: dynamoDbEndpoint,
    AWS_REGION: LOCAL_REGION,
    // This home's DynamoDB key; the other local services accept any key.
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    OPTIMISTIC_PUBLISH: String(optimisticPublish),
    // Nothing collects Embedded Metric Format lines here; they would only bury the request log. An explicit
    // POWERTOOLS_METRICS_DISABLED=false from the caller still wins.
    POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED ?? 'true',
  };
}
