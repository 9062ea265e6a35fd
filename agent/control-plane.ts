import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type * as z from 'zod';
import {
  AgentResponseSchema,
  JobStartResponseSchema,
  type AgentRequest,
  type AgentResponse,
  type JobStartRequest,
  type JobStartResponse,
} from '../functions/core/fleet/agent-protocol.ts';

/** The agent's line to the control plane: one synchronous request, one answer. */
export interface ControlPlane {
  call(request: AgentRequest): Promise<AgentResponse>;
  startJob(request: JobStartRequest): Promise<JobStartResponse>;
}

/**
 * The worker-control function, invoked with the instance role's credentials (lambda:InvokeFunction on that one
 * function is all the role may do with Lambda). A transport failure or a function error is a retryable answer:
 * the caller decides how long to keep trying.
 */
export class LambdaControlPlane implements ControlPlane {
  constructor(
    private readonly client: LambdaClient,
    private readonly functionName: string,
  ) {}

  call(request: AgentRequest): Promise<AgentResponse> {
    return this.invoke(request, AgentResponseSchema);
  }

  startJob(request: JobStartRequest): Promise<JobStartResponse> {
    return this.invoke(request, JobStartResponseSchema);
  }

  private async invoke<T extends AgentResponse | JobStartResponse>(request: AgentRequest | JobStartRequest, schema: z.ZodType<T>): Promise<T | Extract<T, { ok: false }>> {
    const failure = (code: string, message: string) => ({ ok: false, code, message, retryable: true }) as Extract<T, { ok: false }>;
    try {
      const answer = await this.client.send(new InvokeCommand({ FunctionName: this.functionName, Payload: Buffer.from(JSON.stringify(request)) }));
      const text = answer.Payload ? Buffer.from(answer.Payload).toString('utf8') : '';
      if (answer.FunctionError) return failure('FUNCTION_ERROR', `worker-control failed: ${text.slice(0, 500)}`);
      const parsed = schema.safeParse(JSON.parse(text));
      if (!parsed.success) return failure('BAD_ANSWER', 'worker-control answered something the agent cannot read');
      return parsed.data;
    } catch (error) {
      return failure((error as Error).name || 'NETWORK_ERROR', (error as Error).message);
    }
  }
}
