import { Logger } from '@aws-lambda-powertools/logger';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { SQSEvent } from 'aws-lambda';
import { createDocumentClient } from '../../functions/adapters/dynamodb/client.ts';
import { DynamoJobStore } from '../../functions/adapters/dynamodb/job-store.ts';
import { DynamoWorkerStore } from '../../functions/adapters/dynamodb/worker-store.ts';
import { SqsQueueDepth } from '../../functions/adapters/sqs/queue-depth.ts';
import { StepFunctionsProvisioningRunner } from '../../functions/adapters/stepfunctions/provisioning-runner.ts';
import { SagaControl } from '../../functions/adapters/stepfunctions/saga-control.ts';
import { createFleet, type Fleet } from '../../functions/core/fleet/fleet.ts';
import { TerminationReason } from '../../functions/core/fleet/worker.ts';
import { EC2_RATE_LIMITS } from '../../functions/core/fleet/ec2-rate-limits.ts';
import { InMemoryTokenBucket } from '../../functions/core/token-bucket.ts';
import { systemClock } from '../../functions/core/ports.ts';
import { SagaService } from '../../functions/core/saga.ts';
import { SCALER_QUEUE } from '../../functions/declarations/queues.ts';
import { COUNTERS_TABLE, JOBS_TABLE, localTableName, OUTBOX_TABLE, WORKERS_TABLE } from '../../functions/declarations/tables.ts';
import { validateWorkerClasses, WORKER_CLASS_DEFINITIONS, type WorkerClassDefinition } from '../../functions/declarations/worker-classes.ts';
import { WORKER_CONTROL_TIMEOUT_SECONDS } from '../../functions/declarations/workers.ts';
import { createScalerHandler } from '../../functions/fleet/scaler-handler.ts';
import { createProvisionSteps } from '../../functions/fleet/steps.ts';
import { createWorkerControl, jobStartsOf } from '../../functions/fleet/worker-control.ts';
import { jobReleaserOn } from '../../functions/fleet/wiring.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION, type LocalCredentials } from '../dynamodb-local.ts';
import { invoker } from '../lambda.ts';
import type { EventBackbone } from '../event-backbone.ts';
import type { SagaRuntime } from '../saga-runtime.ts';
import { LAMBDA_WAIT_TIME_SECONDS, startSqsPoller } from '../sqs-poller.ts';
import { localEc2Endpoint } from './ec2-endpoint.ts';
import { DynamoWorkerMetricsStore } from '../../functions/adapters/dynamodb/worker-metrics-store.ts';
import { ProcAgentProcessStats } from '../../functions/adapters/proc/agent-process-stats.ts';
import { LOCAL_ABSENT_SOURCES } from '../../functions/fleet/config.ts';
import { LocalWorkerProvider } from './local-provider.ts';

/** The name the agents invoke; locally the endpoint serves it in-process. */
export const LOCAL_CONTROL_FUNCTION = 'forgeflow-worker-control';
export const LOCAL_STACK_NAME = 'forgeflow-local';

/** Local overrides of every class's settings: small numbers, so the fleet moves at the pace of a demo. */
export interface LocalFleetSettings {
  minWorkers?: number;
  maxWorkers?: number;
  slotsPerWorker?: number;
  idleTimeoutSeconds?: number;
  minRunningSeconds?: number;
  heartbeatIntervalSeconds?: number;
  bootDeadlineSeconds?: number;
  /** How often the scaler reconciles and the reaper sweeps (AWS: every minute and every five). */
  scaleIntervalMs?: number;
  reapIntervalMs?: number;
  /** How often the collector reads each worker's agent figures and process stats (AWS: the class's schedule). */
  collectIntervalMs?: number;
}

export const LOCAL_FLEET_DEFAULTS = {
  maxWorkers: 4,
  idleTimeoutSeconds: 30,
  minRunningSeconds: 10,
  heartbeatIntervalSeconds: 2,
  bootDeadlineSeconds: 60,
  scaleIntervalMs: 2000,
  reapIntervalMs: 10_000,
  collectIntervalMs: 15_000,
} as const;

export interface LocalFleet {
  fleet: Fleet;
  provider: LocalWorkerProvider;
  stop(): Promise<void>;
}

export interface LocalFleetOptions {
  backbone: EventBackbone;
  saga: SagaRuntime;
  dynamoDbEndpoint: string;
  credentials: LocalCredentials;
  /** The environment every agent gets (queue URLs, endpoints, credentials); read at each launch. */
  agentEnv: () => Record<string, string>;
  settings: LocalFleetSettings;
  log: (message: string) => void;
}

/**
 * The fleet on this machine: the same use cases, saga, scaler, reaper and worker-control function as in AWS,
 * over DynamoDB Local, the local Step Functions engine and SQS; only the worker provider is local (agent
 * processes) and the token bucket lives in memory (one process calls "EC2").
 */
export function startLocalFleet(options: LocalFleetOptions): LocalFleet {
  const classes = localClasses(options.settings);
  const settings = { ...LOCAL_FLEET_DEFAULTS, ...options.settings };
  const logger = new Logger({ serviceName: 'forgeflow-local-fleet' });
  const client = createDocumentClient({ endpoint: options.dynamoDbEndpoint, region: LOCAL_REGION, credentials: options.credentials });
  const sfn = new SFNClient({ endpoint: options.backbone.env.AWS_ENDPOINT_URL_SFN, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const sagaTasks = new SagaControl(sfn, options.saga.stateMachineArn);
  const provider = new LocalWorkerProvider({ env: options.agentEnv, log: options.log });
  const log = (message: string, details: Record<string, unknown>) => options.log(`fleet: ${message} ${JSON.stringify(details)}`);
  const fleet = createFleet({
    store: new DynamoWorkerStore(client, { workers: localTableName(WORKERS_TABLE), outbox: localTableName(OUTBOX_TABLE), counters: localTableName(COUNTERS_TABLE) }),
    provider,
    runner: new StepFunctionsProvisioningRunner(sfn, options.saga.provisionWorkerArn),
    clock: systemClock,
    runtime: 'local',
    region: LOCAL_REGION,
    classes,
    queueDepth: new SqsQueueDepth(options.backbone.sqs.client, (envVar) => options.backbone.env[envVar]!),
    limiter: new InMemoryTokenBucket(EC2_RATE_LIMITS),
    metrics: {
      store: new DynamoWorkerMetricsStore(client, { workers: localTableName(WORKERS_TABLE), outbox: localTableName(OUTBOX_TABLE) }),
      processStats: new ProcAgentProcessStats(async (instanceId) => provider.pidOf(instanceId)),
      absentSourceReason: LOCAL_ABSENT_SOURCES,
      // Nothing collects EMF here: GET /metrics reads the fleet from the store at each scrape.
      recordMetric: () => undefined,
    },
    releaser: jobReleaserOn(client, localTableName(JOBS_TABLE), sagaTasks),
    log,
  });
  options.saga.bindProvisionSteps(createProvisionSteps(fleet));
  const saga = new SagaService({ store: new DynamoJobStore(client, { jobs: localTableName(JOBS_TABLE), outbox: localTableName(OUTBOX_TABLE), counters: localTableName(COUNTERS_TABLE) }), clock: systemClock });
  // Through the invoke boundary as every local function: a job's start gate writes its RUNNING event.
  options.backbone.endpoint.registerFunction(LOCAL_CONTROL_FUNCTION, invoker(LOCAL_CONTROL_FUNCTION, createWorkerControl(fleet.agents, jobStartsOf(saga, sagaTasks), logger), WORKER_CONTROL_TIMEOUT_SECONDS * 1000));
  options.backbone.endpoint.registerQueryService(localEc2Endpoint(provider));

  const previousRun = endWorkersOfPreviousRun(fleet, options.log);
  const scale = createScalerHandler(fleet, logger);
  const nudges = startSqsPoller({
    client: options.backbone.sqs.client,
    queueUrl: options.backbone.queueUrls.get(SCALER_QUEUE.name)!,
    handler: (event: SQSEvent) => scale(event),
    batchSize: SCALER_QUEUE.batchSize,
    maxBatchingWindowSeconds: SCALER_QUEUE.maxBatchingWindowSeconds,
    // As the event backbone's consumers: Lambda's wait, abandoned at stop.
    waitTimeSeconds: LAMBDA_WAIT_TIME_SECONDS,
    functionName: 'forgeflow-scaler',
    onError: (error) => options.log(`scaler nudge failed: ${(error as Error).message}`),
  });
  const loops = [
    every(settings.scaleIntervalMs, async () => (await previousRun, scale({})), (error) => options.log(`scaler: ${error.message}`)),
    every(settings.reapIntervalMs, () => fleet.reaper.sweep(), (error) => options.log(`reaper: ${error.message}`)),
    every(settings.collectIntervalMs, () => collectAll(fleet), (error) => options.log(`metrics collector: ${error.message}`)),
  ];
  return {
    fleet,
    provider,
    async stop() {
      for (const loop of loops) await loop.stop();
      // Its queue is the runtime's own, in memory: a long poll is not worth waiting out.
      await nudges.stop({ abandonReceives: true });
      await provider.stopAll();
      // An agent the stop had to kill before its goodbye (a loaded machine) leaves its worker recorded as alive:
      // this runtime just ended every agent, so it ends their records too, rather than the next start finding them.
      await endLiveWorkers(fleet, 'The local runtime stopped; its agent processes ended with it');
      sfn.destroy();
    },
  };
}

/** One collection of every class, as the per-class schedules do in AWS. */
async function collectAll(fleet: Fleet): Promise<void> {
  const correlationId = `collect-${new Date().toISOString()}`;
  for (const workerClass of fleet.classNames) await fleet.collector!.collectClass(workerClass, correlationId);
}

/**
 * Agent processes die with the runtime that started them, so after a restart every worker still recorded as alive
 * is gone: end them now (their jobs come back through their sagas), rather than wait for the reaper to find them
 * silent, during which the scaler would count them and launch nothing.
 */
async function endWorkersOfPreviousRun(fleet: Fleet, log: (message: string) => void): Promise<void> {
  const ended = await endLiveWorkers(fleet, 'The local runtime restarted; its agent processes ended with the previous run');
  if (ended > 0) log(`fleet: ${ended} worker(s) of the previous run ended`);
}

/** Ends every worker recorded as alive (INSTANCE_GONE): their agent processes are known to be gone. */
async function endLiveWorkers(fleet: Fleet, why: string): Promise<number> {
  let ended = 0;
  for (const state of ['PROVISIONING', 'BOOTING', 'READY', 'DRAINING', 'TERMINATING'] as const) {
    for (const workerClass of fleet.classNames) {
      for await (const worker of fleet.context.workers(workerClass, state)) {
        await fleet.removal.terminateNow(worker.workerId, TerminationReason.INSTANCE_GONE, why);
        ended += 1;
      }
    }
  }
  return ended;
}

/** The declared classes with the local settings laid over them, validated like any declaration. */
function localClasses(settings: LocalFleetSettings): WorkerClassDefinition[] {
  const overrides = { ...LOCAL_FLEET_DEFAULTS, ...settings };
  const classes = WORKER_CLASS_DEFINITIONS.map((c) => ({
    ...c,
    maxWorkers: Math.max(overrides.maxWorkers, settings.minWorkers ?? 0),
    ...(settings.minWorkers === undefined ? {} : { minWorkers: settings.minWorkers }),
    ...(settings.slotsPerWorker === undefined ? {} : { slotsPerWorker: settings.slotsPerWorker }),
    idleTimeoutSeconds: overrides.idleTimeoutSeconds,
    minRunningSeconds: overrides.minRunningSeconds,
    heartbeatIntervalSeconds: overrides.heartbeatIntervalSeconds,
    bootDeadlineSeconds: overrides.bootDeadlineSeconds,
  }));
  validateWorkerClasses(classes);
  return classes;
}

/** Runs `task` every `ms`, one run at a time; stop() waits for a run in progress. */
function every(ms: number, task: () => Promise<unknown>, onError: (error: Error) => void) {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const tick = () => {
    running = task()
      .then(() => undefined, (error: unknown) => onError(error as Error))
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, ms);
      });
  };
  timer = setTimeout(tick, 0);
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
