import type { Logger } from '@aws-lambda-powertools/logger';
import * as z from 'zod';
import { decideStart, type FailTask } from '../core/attempt-start.ts';
import { AgentIdentityError, WorkerNotLaunchedYetError, type AgentControl } from '../core/fleet/agent-control.ts';
import { ControlRequestSchema, type AgentResponse, type JobStartResponse } from '../core/fleet/agent-protocol.ts';
import { WorkerConflictError, WorkerNotFoundError } from '../core/fleet/errors.ts';
import type { StartedAttempt } from '../core/saga.ts';
import type { WorkerReport } from '../core/saga-messages.ts';

/**
 * What a job start needs of the saga: record RUNNING (or find the attempt cancelled or over), and fail the task of
 * an attempt stopped for a removed worker whose release could not (decideStart).
 */
export interface JobStarts {
  recordRunning(report: WorkerReport): Promise<StartedAttempt>;
  failTask: FailTask;
}

/** A job start's two sides: the saga service records the start, the saga's control fails a task. */
export function jobStartsOf(saga: Pick<JobStarts, 'recordRunning'>, tasks: { failTask: FailTask }): JobStarts {
  return { recordRunning: (report) => saga.recordRunning(report), failTask: (taskToken, reason, cause) => tasks.failTask(taskToken, reason, cause) };
}

/**
 * The worker-control function: the agents' only way into the control plane (they hold no database access).
 * Synchronous, so the scale-in handshake and a job's start get their answer; every outcome is a response, never a
 * thrown error, so the agent tells "try again" (retryable) from "you are not who you say" (not retryable).
 */
export function createWorkerControl(agents: AgentControl, jobs: JobStarts, logger: Pick<Logger, 'warn' | 'error'>) {
  return async (event: unknown): Promise<AgentResponse | JobStartResponse> => {
    const parsed = ControlRequestSchema.safeParse(event);
    if (!parsed.success) return refuse('INVALID_REQUEST', z.prettifyError(parsed.error), false);
    const request = parsed.data;
    try {
      switch (request.action) {
        case 'register':
          return { ok: true, instruction: await agents.register(request.identity) };
        case 'heartbeat':
          return { ok: true, instruction: await agents.heartbeat(request.identity, { jobIds: request.runningJobIds }, request.stats) };
        case 'requestDrain': {
          const { granted, instruction } = await agents.requestDrain(request.identity);
          return { ok: true, granted, instruction };
        }
        case 'goodbye': {
          await agents.goodbye(request.identity);
          return { ok: true, instruction: { directive: 'release', heartbeatIntervalSeconds: 1, idleTimeoutSeconds: 1, minRunningSeconds: 0 } };
        }
        case 'jobStarting':
          // The task token in the report is the agent's proof that it holds this attempt's dispatch message.
          if (request.report.workerId !== request.identity.workerId) return refuse('IDENTITY_REJECTED', 'The report names another worker', false);
          return { ok: true, verdict: await decideStart(jobs, request.report, jobs.failTask) };
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

function refuse(code: string, message: string, retryable: boolean): AgentResponse & JobStartResponse {
  return { ok: false, code, message, retryable };
}
