import { z } from 'zod';
import { AgentDirective } from './worker.ts';

/**
 * The contract between the worker agent and the worker-control function, declared once: the agent builds these
 * requests and parses these answers, the function parses and builds the same, both through these schemas.
 */
export const AgentIdentitySchema = z.object({
  workerId: z.string().regex(/^(w-[0-9a-z]{26})$/, 'a worker id looks like w-<ulid>'),
  instanceId: z.string().regex(/^(i-[0-9a-f]{8,17}|local-\d+)$/, 'an EC2 instance id (i-...) or a local one (local-N)'),
  agentVersion: z.string().min(1).max(64),
});

export const AgentRequestSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('register'), identity: AgentIdentitySchema }),
  z.object({ action: z.literal('heartbeat'), identity: AgentIdentitySchema, runningJobIds: z.array(z.string().max(64)).max(256) }),
  z.object({ action: z.literal('requestDrain'), identity: AgentIdentitySchema }),
  z.object({ action: z.literal('goodbye'), identity: AgentIdentitySchema }),
]);
export type AgentRequest = z.infer<typeof AgentRequestSchema>;

export const AgentInstructionSchema = z.object({
  directive: z.enum([AgentDirective.CONTINUE, AgentDirective.DRAIN, AgentDirective.RELEASE]),
  heartbeatIntervalSeconds: z.number().int().positive(),
  idleTimeoutSeconds: z.number().int().positive(),
  minRunningSeconds: z.number().int().nonnegative(),
});

/** Every answer is one of these; failures are data too, so the agent can tell "try again" from "stop". */
export const AgentResponseSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), instruction: AgentInstructionSchema, granted: z.boolean().optional() }),
  z.object({ ok: z.literal(false), code: z.string(), message: z.string(), retryable: z.boolean() }),
]);
export type AgentResponse = z.infer<typeof AgentResponseSchema>;
