import type { Logger } from '@aws-lambda-powertools/logger';
import { z } from 'zod';
import { AgentIdentityError, WorkerNotLaunchedYetError, type AgentControl } from '../core/fleet/agent-control.ts';
import { AgentRequestSchema, type AgentResponse } from '../core/fleet/agent-protocol.ts';
import { WorkerConflictError, WorkerNotFoundError } from '../core/fleet/errors.ts';

/**
 * The worker-control function: the agents' only way into the control plane (they hold no database access).
 * Synchronous, so the scale-in handshake gets its answer; every outcome is an AgentResponse, never a thrown
 * error, so the agent tells "try again" (retryable) from "you are not who you say" (not retryable).
 */
export function createWorkerControl(agents: AgentControl, logger: Pick<Logger, 'warn' | 'error'>) {
  return async (event: unknown): Promise<AgentResponse> => {
    const parsed = AgentRequestSchema.safeParse(event);
    if (!parsed.success) return refuse('INVALID_REQUEST', z.prettifyError(parsed.error), false);
    const request = parsed.data;
    try {
      switch (request.action) {
        case 'register':
          return { ok: true, instruction: await agents.register(request.identity) };
        case 'heartbeat':
          return { ok: true, instruction: await agents.heartbeat(request.identity, { jobIds: request.runningJobIds }) };
        case 'requestDrain': {
          const { granted, instruction } = await agents.requestDrain(request.identity);
          return { ok: true, granted, instruction };
        }
        case 'goodbye': {
          await agents.goodbye(request.identity);
          return { ok: true, instruction: { directive: 'release', heartbeatIntervalSeconds: 1, idleTimeoutSeconds: 1, minRunningSeconds: 0 } };
        }
      }
    } catch (error) {
      if (error instanceof AgentIdentityError) {
        logger.warn('agent identity refused', { workerId: request.identity.workerId, instanceId: request.identity.instanceId, reason: error.message });
        return refuse('IDENTITY_REJECTED', error.message, false);
      }
      if (error instanceof WorkerNotFoundError) return refuse('WORKER_NOT_FOUND', error.message, false);
      if (error instanceof WorkerNotLaunchedYetError || error instanceof WorkerConflictError) return refuse('TRY_AGAIN', error.message, true);
      logger.error('worker control failed', error as Error);
      return refuse('INTERNAL_ERROR', 'The control plane could not answer; try again', true);
    }
  };
}

function refuse(code: string, message: string, retryable: boolean): AgentResponse {
  return { ok: false, code, message, retryable };
}
