import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { AgentResponseSchema, type AgentRequest, type AgentResponse } from '../functions/core/fleet/agent-protocol.ts';

/** The agent's line to the control plane: one synchronous request, one answer. */
export interface ControlPlane {
  call(request: AgentRequest): Promise<AgentResponse>;
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

  async call(request: AgentRequest): Promise<AgentResponse> {
    try {
      const answer = await this.client.send(new InvokeCommand({ FunctionName: this.functionName, Payload: Buffer.from(JSON.stringify(request)) }));
      const text = answer.Payload ? Buffer.from(answer.Payload).toString('utf8') : '';
      if (answer.FunctionError) return { ok: false, code: 'FUNCTION_ERROR', message: `worker-control failed: ${text.slice(0, 500)}`, retryable: true };
      const parsed = AgentResponseSchema.safeParse(JSON.parse(text));
      if (!parsed.success) return { ok: false, code: 'BAD_ANSWER', message: 'worker-control answered something the agent cannot read', retryable: true };
      return parsed.data;
    } catch (error) {
      return { ok: false, code: (error as Error).name || 'NETWORK_ERROR', message: (error as Error).message, retryable: true };
    }
  }
}
