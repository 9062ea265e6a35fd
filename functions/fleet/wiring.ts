import { Logger } from '@aws-lambda-powertools/logger';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { CloudWatchInstanceMetrics } from '../adapters/cloudwatch/instance-metrics.ts';
import { Ec2InstanceHealthSource, Ec2MonitoringControl } from '../adapters/ec2/instance-status.ts';
import { DynamoWorkerMetricsStore } from '../adapters/dynamodb/worker-metrics-store.ts';
import { ProcAgentProcessStats } from '../adapters/proc/agent-process-stats.ts';
import { classLookup, type FleetPorts } from '../core/fleet/fleet.ts';
import { FleetContext } from '../core/fleet/fleet-context.ts';
import { WorkerMetricsCollector } from '../core/fleet/metrics-collector.ts';
import type { MetricsRecorder } from '../core/platform-metrics.ts';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { createDocumentClient } from '../adapters/dynamodb/client.ts';
import { DynamoJobStore } from '../adapters/dynamodb/job-store.ts';
import { DynamoRateLimiter } from '../adapters/dynamodb/rate-limiter.ts';
import { DynamoWorkerStore } from '../adapters/dynamodb/worker-store.ts';
import { createEc2Clients, Ec2WorkerProvider } from '../adapters/ec2/worker-provider.ts';
import { lazyEc2 } from '../adapters/ec2/lazy-clients.ts';
import { lazyCloudWatch, lazySfn, lazySqs, type LazySfn } from '../adapters/lazy-clients.ts';
import { SqsQueueDepth } from '../adapters/sqs/queue-depth.ts';
import { SagaJobReleaser } from '../adapters/stepfunctions/job-releaser.ts';
import { StepFunctionsProvisioningRunner } from '../adapters/stepfunctions/provisioning-runner.ts';
import { SagaControl } from '../adapters/stepfunctions/saga-control.ts';
import { createFleet, type Fleet } from '../core/fleet/fleet.ts';
import type { WorkerProvider } from '../core/fleet/ports.ts';
import { EC2_RATE_LIMITS } from '../core/fleet/ec2-rate-limits.ts';
import { systemClock } from '../core/ports.ts';
import { stopLostAttempt } from '../core/lost-attempt.ts';
import { JOB_SAGA, PROVISION_WORKER } from '../declarations/statemachines.ts';
import { COUNTERS_TABLE, JOBS_TABLE, OUTBOX_TABLE, WORKERS_TABLE } from '../declarations/tables.ts';
import { validateWorkerClasses, WORKER_CLASS_DEFINITIONS, workerClassNamed } from '../declarations/worker-classes.ts';
import { DISPATCH_QUEUES } from '../declarations/workers.ts';
import { ConfigurationError, readConfig, readStateMachineArn, readTableNames } from '../shared/config.ts';
import { renderBootstrap } from './bootstrap.ts';
import { FLEET_ENV, FleetLaunchConfigSchema, LOCAL_ABSENT_SOURCES } from './config.ts';

/** What a fleet function uses beyond the store; each function asks only for what its job needs (and is granted that). */
export interface FleetWiringOptions {
  /** Launch and terminate EC2 instances (steps, scaler-started launches, reaper, API removal). */
  ec2: boolean;
  /** Read the dispatch queues' depth (the scaler). */
  queueDepth: boolean;
  /** Fail the tasks of jobs a removed worker held (reaper, API removal, spot). */
  releaseJobs: boolean;
  /** Collect worker metrics (the collector, the API's refresh and monitoring routes), recording gauges here. */
  metrics?: MetricsRecorder;
}

/**
 * The clients a handler calls on every invocation, made by it at init: the scaler's SQS (it reads the queues' depth
 * each run), the collector's CloudWatch. Every other client is made on first use (lazy-clients.ts): most fleet
 * functions never start or answer a saga, and none but the collector reads CloudWatch on most of its calls. This
 * module imports no SDK client itself, since a bundle keeps every import of the SDK it sees, used or not.
 */
export interface FleetClients {
  sqs?: SQSClient;
  cloudWatch?: CloudWatchClient;
  /** A lazy Step Functions client the handler shares with calls of its own (worker-control's job saga tasks). */
  sfn?: LazySfn;
}

export const FLEET_TABLES = [WORKERS_TABLE, OUTBOX_TABLE, COUNTERS_TABLE];

/** Builds the fleet a Lambda uses from its environment, once, at cold start (fail fast on a missing setting). */
export function fleetFromEnv(options: FleetWiringOptions, env: NodeJS.ProcessEnv = process.env, clients: FleetClients = {}): Fleet {
  validateWorkerClasses(WORKER_CLASS_DEFINITIONS);
  const tableName = readTableNames(options.releaseJobs ? [...FLEET_TABLES, JOBS_TABLE] : FLEET_TABLES, env);
  const config = readConfig({ [PROVISION_WORKER.envVar]: z.string().startsWith('arn:'), AWS_REGION: z.string().min(1), [FLEET_ENV.stackName]: z.string().min(1) }, env) as Record<string, string>;
  const client = createDocumentClient();
  const sfn = clients.sfn ?? lazySfn({});
  const logger = new Logger({ serviceName: 'forgeflow-fleet' });
  return createFleet({
    store: new DynamoWorkerStore(client, { workers: tableName(WORKERS_TABLE), outbox: tableName(OUTBOX_TABLE), counters: tableName(COUNTERS_TABLE) }),
    provider: options.ec2 ? ec2Provider(config[FLEET_ENV.stackName]!, env) : unavailableProvider(),
    runner: new StepFunctionsProvisioningRunner(sfn, config[PROVISION_WORKER.envVar]!),
    clock: systemClock,
    runtime: 'aws',
    region: config.AWS_REGION!,
    limiter: new DynamoRateLimiter(client, { table: tableName(COUNTERS_TABLE), limits: EC2_RATE_LIMITS }),
    ...(options.ec2 && env[FLEET_ENV.launch] ? { defaultSubnetIds: launchConfig(env).subnetIds } : {}),
    ...(options.queueDepth ? { queueDepth: new SqsQueueDepth(clients.sqs ?? lazySqs({}), queueUrls(env)) } : {}),
    ...(options.releaseJobs ? { releaser: jobReleaser(tableName, sfn, env) } : {}),
    ...(options.metrics ? { metrics: metricSources(client, { workers: tableName(WORKERS_TABLE), outbox: tableName(OUTBOX_TABLE) }, options.metrics, env, clients) } : {}),
    log: (message, details) => logger.warn(message, details),
  });
}

/**
 * The collector function's wiring: the worker store and the metric sources, nothing else. It launches, terminates
 * and starts nothing, so it gets no provider, runner or limiter (and is granted none).
 */
export function collectorFromEnv(recordMetric: MetricsRecorder, env: NodeJS.ProcessEnv = process.env, clients: FleetClients = {}): WorkerMetricsCollector {
  validateWorkerClasses(WORKER_CLASS_DEFINITIONS);
  const tableName = readTableNames([WORKERS_TABLE, OUTBOX_TABLE], env);
  const client = createDocumentClient();
  const tables = { workers: tableName(WORKERS_TABLE), outbox: tableName(OUTBOX_TABLE) };
  // The counters table is only written by state changes, which the collector never makes.
  const store = new DynamoWorkerStore(client, { ...tables, counters: '' });
  const runtime = env[FLEET_ENV.metricSources] === 'local' ? 'local' : 'aws';
  return new WorkerMetricsCollector({ ...metricSources(client, tables, recordMetric, env, clients), fleet: new FleetContext(store, systemClock, classLookup(runtime)) });
}

function launchConfig(env: NodeJS.ProcessEnv) {
  const raw = env[FLEET_ENV.launch];
  if (!raw) throw new ConfigurationError(`Invalid configuration: ${FLEET_ENV.launch} is not set`);
  const parsed = FleetLaunchConfigSchema.safeParse(JSON.parse(raw));
  if (!parsed.success) throw new ConfigurationError(`Invalid configuration: ${FLEET_ENV.launch}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** Functions that only describe and terminate (worker control, reaper, API) get no launch settings. */
function ec2Provider(stackName: string, env: NodeJS.ProcessEnv): Ec2WorkerProvider {
  const launch = env[FLEET_ENV.launch] === undefined ? undefined : launchConfig(env);
  return new Ec2WorkerProvider(createEc2Clients(), {
    stackName,
    launchTemplateIds: launch?.launchTemplateIds ?? {},
    userData: (workerId, workerClass) => {
      if (!launch) throw new ConfigurationError(`${FLEET_ENV.launch} is not set: this function cannot launch`);
      return renderBootstrap({ workerId, workerClass: workerClassNamed(workerClass.name, 'aws'), agentBundle: launch.agentBundle, agentEnv: launch.agentEnv[workerClass.name] ?? {} });
    },
  });
}

function queueUrls(env: NodeJS.ProcessEnv): (envVar: string) => string {
  const urls = readConfig(Object.fromEntries(DISPATCH_QUEUES.map((q) => [q.envVar, z.url()])), env) as Record<string, string>;
  return (envVar) => {
    const url = urls[envVar];
    if (!url) throw new ConfigurationError(`No URL is configured for ${envVar}`);
    return url;
  };
}

function jobReleaser(tableName: (t: typeof JOBS_TABLE) => string, sfn: LazySfn, env: NodeJS.ProcessEnv): SagaJobReleaser {
  return jobReleaserOn(createDocumentClient(), tableName(JOBS_TABLE), jobSagaTasks(sfn, env));
}

/** The job saga's tasks as the fleet answers them (a failure with WORKER_LOST): the job releaser's, worker-control's. */
export function jobSagaTasks(sfn: LazySfn, env: NodeJS.ProcessEnv = process.env): SagaControl {
  return new SagaControl(sfn, readStateMachineArn(JOB_SAGA, env));
}

/** The job releaser (here and on the local runtime) over the jobs table alone: a release writes only the job item. */
export function jobReleaserOn(client: DynamoDBDocumentClient, jobsTable: string, saga: SagaControl): SagaJobReleaser {
  // The outbox and counters names are never used: stopLostAttempt's write has no event and no slot.
  const store = new DynamoJobStore(client, { jobs: jobsTable, outbox: '', counters: '' });
  return new SagaJobReleaser((jobId, workerId) => stopLostAttempt({ store, clock: systemClock }, jobId, workerId), saga);
}

/**
 * The collector's sources. In AWS: EC2 status checks, CloudWatch, and EC2's monitoring switch. On the local runtime
 * (FLEET_METRIC_SOURCES=local) workers are processes: EC2 and CloudWatch say `not-applicable`, /proc stands in.
 */
function metricSources(
  client: ReturnType<typeof createDocumentClient>,
  tables: { workers: string; outbox: string },
  recordMetric: MetricsRecorder,
  env: NodeJS.ProcessEnv,
  clients: FleetClients,
): NonNullable<FleetPorts['metrics']> {
  const store = new DynamoWorkerMetricsStore(client, tables);
  if (env[FLEET_ENV.metricSources] === 'local') {
    return { store, recordMetric, processStats: new ProcAgentProcessStats(), absentSourceReason: LOCAL_ABSENT_SOURCES };
  }
  const ec2 = lazyEc2({});
  return {
    store,
    recordMetric,
    ec2: new Ec2InstanceHealthSource(ec2),
    cloudWatch: new CloudWatchInstanceMetrics(clients.cloudWatch ?? lazyCloudWatch({})),
    monitoring: new Ec2MonitoringControl(ec2),
    absentSourceReason: '',
  };
}

/** For functions granted no EC2 access: any call is a wiring bug, named as such. */
function unavailableProvider(): WorkerProvider {
  const refuse = (): Promise<never> => Promise.reject(new ConfigurationError('This function was not wired with EC2 access'));
  return { resolveImage: refuse, launch: refuse, terminate: refuse, listInstances: refuse, describe: refuse };
}
