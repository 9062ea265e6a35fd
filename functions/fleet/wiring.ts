import { Logger } from '@aws-lambda-powertools/logger';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { createDocumentClient } from '../adapters/dynamodb/client.ts';
import { DynamoJobStore } from '../adapters/dynamodb/job-store.ts';
import { DynamoRateLimiter } from '../adapters/dynamodb/rate-limiter.ts';
import { DynamoWorkerStore } from '../adapters/dynamodb/worker-store.ts';
import { createEc2Clients, Ec2WorkerProvider } from '../adapters/ec2/worker-provider.ts';
import { SqsQueueDepth } from '../adapters/sqs/queue-depth.ts';
import { SagaJobReleaser } from '../adapters/stepfunctions/job-releaser.ts';
import { StepFunctionsProvisioningRunner } from '../adapters/stepfunctions/provisioning-runner.ts';
import { SagaControl } from '../adapters/stepfunctions/saga-control.ts';
import { createFleet, type Fleet } from '../core/fleet/fleet.ts';
import type { WorkerProvider } from '../core/fleet/ports.ts';
import { EC2_RATE_LIMITS } from '../core/fleet/ec2-rate-limits.ts';
import { systemClock } from '../core/ports.ts';
import { JOB_SAGA, PROVISION_WORKER } from '../declarations/statemachines.ts';
import { COUNTERS_TABLE, JOBS_TABLE, OUTBOX_TABLE, WORKERS_TABLE } from '../declarations/tables.ts';
import { validateWorkerClasses, WORKER_CLASS_DEFINITIONS, workerClassNamed } from '../declarations/worker-classes.ts';
import { DISPATCH_QUEUES } from '../declarations/workers.ts';
import { ConfigurationError, readConfig, readStateMachineArn, readTableNames } from '../shared/config.ts';
import { renderBootstrap } from './bootstrap.ts';
import { FLEET_ENV, FleetLaunchConfigSchema } from './config.ts';

/** What a fleet function uses beyond the store; each function asks only for what its job needs (and is granted that). */
export interface FleetWiringOptions {
  /** Launch and terminate EC2 instances (steps, scaler-started launches, reaper, API removal). */
  ec2: boolean;
  /** Read the dispatch queues' depth (the scaler). */
  queueDepth: boolean;
  /** Fail the tasks of jobs a removed worker held (reaper, API removal, spot). */
  releaseJobs: boolean;
}

export const FLEET_TABLES = [WORKERS_TABLE, OUTBOX_TABLE, COUNTERS_TABLE];

/** Builds the fleet a Lambda uses from its environment, once, at cold start (fail fast on a missing setting). */
export function fleetFromEnv(options: FleetWiringOptions, env: NodeJS.ProcessEnv = process.env): Fleet {
  validateWorkerClasses(WORKER_CLASS_DEFINITIONS);
  const tableName = readTableNames(options.releaseJobs ? [...FLEET_TABLES, JOBS_TABLE] : FLEET_TABLES, env);
  const config = readConfig({ [PROVISION_WORKER.envVar]: z.string().startsWith('arn:'), AWS_REGION: z.string().min(1), [FLEET_ENV.stackName]: z.string().min(1) }, env) as Record<string, string>;
  const client = createDocumentClient();
  const sfn = new SFNClient({});
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
    ...(options.queueDepth ? { queueDepth: new SqsQueueDepth(new SQSClient({}), queueUrls(env)) } : {}),
    ...(options.releaseJobs ? { releaser: jobReleaser(tableName, sfn, env) } : {}),
    log: (message, details) => logger.warn(message, details),
  });
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

function jobReleaser(tableName: (t: typeof JOBS_TABLE) => string, sfn: SFNClient, env: NodeJS.ProcessEnv): SagaJobReleaser {
  const sagaArn = readStateMachineArn(JOB_SAGA, env);
  // Only `get` is used: the outbox and counters names are never written through this store.
  const jobs = new DynamoJobStore(createDocumentClient(), { jobs: tableName(JOBS_TABLE), outbox: '', counters: '' });
  return new SagaJobReleaser(jobs, new SagaControl(sfn, sagaArn));
}

/** For functions granted no EC2 access: any call is a wiring bug, named as such. */
function unavailableProvider(): WorkerProvider {
  const refuse = (): Promise<never> => Promise.reject(new ConfigurationError('This function was not wired with EC2 access'));
  return { resolveImage: refuse, launch: refuse, terminate: refuse, listInstances: refuse, describe: refuse };
}
