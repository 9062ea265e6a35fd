import type { Environment } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { EVENT_BUS } from '../functions/declarations/events.ts';
import { JOB_SAGA, PROVISION_WORKER } from '../functions/declarations/statemachines.ts';
import { validateWorkerClasses, WORKER_CLASS_DEFINITIONS } from '../functions/declarations/worker-classes.ts';
import type { ExistingWorkerNetwork } from './fleet-network.ts';
import { ForgeflowStatefulStack } from './stateful-stack.ts';
import { ForgeflowApiStack } from './stateless-stack.ts';

export interface ForgeflowAppOptions {
  /** Prefix of the stack names, so several copies (per developer, per stage) can live in one account. */
  readonly stackPrefix?: string;
  /** @default environment-agnostic stacks */
  readonly env?: Environment;
  /** @default the workers get a VPC of their own (two AZs, public subnets, no NAT gateway) */
  readonly workerNetwork?: ExistingWorkerNetwork;
}

export interface ForgeflowStacks {
  readonly stateful: ForgeflowStatefulStack;
  readonly api: ForgeflowApiStack;
}

export const DEFAULT_STACK_PREFIX = 'Forgeflow';

/**
 * Bus and state machine names are unique per account and region (unlike the tables and queues, which
 * CloudFormation names): the default copy gets the declared name, any other copy a name with its prefix, so copies
 * never collide.
 */
const perCopy = (name: string) => (prefix: string) => (prefix === DEFAULT_STACK_PREFIX ? name : `${name}-${prefix.toLowerCase()}`);
export const eventBusName = perCopy(EVENT_BUS.name);
export const jobSagaName = perCopy(JOB_SAGA.name);
export const provisionWorkerName = perCopy(PROVISION_WORKER.name);

/** Builds the Forgeflow stacks into an App (or Stage). bin/app.ts and the CDK tests build the same thing. */
export function createForgeflowApp(scope: Construct, options: ForgeflowAppOptions = {}): ForgeflowStacks {
  // A class with a bad setting stops the synth here, with one sentence, before any construct uses it.
  validateWorkerClasses(WORKER_CLASS_DEFINITIONS);
  const prefix = options.stackPrefix ?? DEFAULT_STACK_PREFIX;
  const stateful = new ForgeflowStatefulStack(scope, `${prefix}Stateful`, { env: options.env, eventBusName: eventBusName(prefix) });
  const api = new ForgeflowApiStack(scope, `${prefix}Api`, {
    env: options.env,
    tables: stateful.tables,
    auth: stateful.auth,
    queues: stateful.queues,
    events: stateful.events,
    jobLogs: stateful.jobLogs,
    jobSagaName: jobSagaName(prefix),
    provisionWorkerName: provisionWorkerName(prefix),
    workerNetwork: options.workerNetwork,
  });
  return { stateful, api };
}
