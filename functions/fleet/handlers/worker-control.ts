import { Logger } from '@aws-lambda-powertools/logger';
import type { AgentResponse, JobStartResponse } from '../../core/fleet/agent-protocol.ts';
import { lazySfn } from '../../adapters/lazy-clients.ts';
import { SagaControl } from '../../adapters/stepfunctions/saga-control.ts';
import { JOB_SAGA } from '../../declarations/statemachines.ts';
import { sagaServiceFromEnv } from '../../saga/wiring.ts';
import { readStateMachineArn } from '../../shared/config.ts';
import { createWorkerControl } from '../worker-control.ts';
import { fleetFromEnv } from '../wiring.ts';

/**
 * Lambda entry of worker-control, invoked synchronously by the agents (lambda:InvokeFunction on this function is
 * all their role may do with Lambda). It describes instances to check identities and terminates drained ones, and
 * records each job's start before the agent runs its command (failing the task of an attempt stopped for a removed
 * worker, when the release could not).
 */
const logger = new Logger({ serviceName: 'forgeflow-worker-control' });
const saga = sagaServiceFromEnv({ dispatch: false });
const tasks = new SagaControl(lazySfn({}), readStateMachineArn(JOB_SAGA, process.env));
const jobStarts = { recordRunning: saga.recordRunning.bind(saga), failTask: tasks.failTask.bind(tasks) };
const control = createWorkerControl(fleetFromEnv({ ec2: true, queueDepth: false, releaseJobs: false }).agents, jobStarts, logger);

export const handler = (event: unknown): Promise<AgentResponse | JobStartResponse> => control(event);
