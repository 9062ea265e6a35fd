import { Logger } from '@aws-lambda-powertools/logger';
import type { AgentResponse, JobStartResponse } from '../../core/fleet/agent-protocol.ts';
import { sagaServiceFromEnv } from '../../saga/wiring.ts';
import { createWorkerControl } from '../worker-control.ts';
import { fleetFromEnv } from '../wiring.ts';

/**
 * Lambda entry of worker-control, invoked synchronously by the agents (lambda:InvokeFunction on this function is
 * all their role may do with Lambda). It describes instances to check identities and terminates drained ones, and
 * records each job's start before the agent runs its command.
 */
const logger = new Logger({ serviceName: 'forgeflow-worker-control' });
const control = createWorkerControl(fleetFromEnv({ ec2: true, queueDepth: false, releaseJobs: false }).agents, sagaServiceFromEnv({ dispatch: false }), logger);

export const handler = (event: unknown): Promise<AgentResponse | JobStartResponse> => control(event);
