import { Logger } from '@aws-lambda-powertools/logger';
import type { AgentResponse, JobStartResponse } from '../../core/fleet/agent-protocol.ts';
import { lazySfn } from '../../adapters/lazy-clients.ts';
import { sagaServiceFromEnv } from '../../saga/wiring.ts';
import { createWorkerControl, jobStartsOf } from '../worker-control.ts';
import { fleetFromEnv, jobSagaTasks } from '../wiring.ts';

/**
 * Lambda entry of worker-control, invoked synchronously by the agents (lambda:InvokeFunction on this function is
 * all their role may do with Lambda). It describes instances to check identities and terminates drained ones, and
 * records each job's start before the agent runs its command (failing the task of an attempt stopped for a removed
 * worker, when the release could not).
 */
const logger = new Logger({ serviceName: 'forgeflow-worker-control' });
const sfn = lazySfn({});
const fleet = fleetFromEnv({ ec2: true, queueDepth: false, releaseJobs: false }, process.env, { sfn });
const control = createWorkerControl(fleet.agents, jobStartsOf(sagaServiceFromEnv({ dispatch: false }), jobSagaTasks(sfn)), logger);

export const handler = (event: unknown): Promise<AgentResponse | JobStartResponse> => control(event);
