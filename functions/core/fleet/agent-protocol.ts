import * as z from 'zod';
import { WorkerReportSchema } from '../saga-messages.ts';
import { AgentDirective } from './worker.ts';
import { AgentStatsSchema } from './worker-metrics.ts';
import { WORKER_ID_PATTERN } from './worker-id.ts';

/**
 * The contract between the worker agent and the worker-control function, declared once: the agent builds these
 * requests and parses these answers, the function parses and builds the same, both through these schemas.
 */
/** Who an agent says it is: read from the instance metadata (EC2) or given by the local runtime. */
export const AgentIdentitySchema = z.object({
  workerId: z.string().regex(WORKER_ID_PATTERN, 'a worker id looks like w-<ulid>'),
  instanceId: z.string().regex(/^(i-[0-9a-f]{8,17}|local-\d+)$/, 'an EC2 instance id (i-...) or a local one (local-N)'),
  agentVersion: z.string().min(1).max(64),
});

export const AgentRequestSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('register'), identity: AgentIdentitySchema }),
  // `stats` is optional: an agent of an earlier release keeps its heartbeats accepted, and its agent block says so.
  z.object({ action: z.literal('heartbeat'), identity: AgentIdentitySchema, runningJobIds: z.array(z.string().max(64)).max(256), stats: AgentStatsSchema.optional() }),
  z.object({ action: z.literal('requestDrain'), identity: AgentIdentitySchema }),
  z.object({ action: z.literal('goodbye'), identity: AgentIdentitySchema }),
]);
export type AgentRequest = z.infer<typeof AgentRequestSchema>;

/** What the control plane tells an agent, at registration and in answer to each heartbeat: what to do, and its class's timings. */
export const AgentInstructionSchema = z.object({
  directive: z.enum([AgentDirective.CONTINUE, AgentDirective.DRAIN, AgentDirective.RELEASE]),
  heartbeatIntervalSeconds: z.number().int().positive(),
  idleTimeoutSeconds: z.number().int().positive(),
  minRunningSeconds: z.number().int().nonnegative(),
});

export type AgentIdentity = z.infer<typeof AgentIdentitySchema>;
export type AgentInstruction = z.infer<typeof AgentInstructionSchema>;

/** Every answer is one of these; failures are data too, so the agent can tell "try again" from "stop". */
export const AgentResponseSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), instruction: AgentInstructionSchema, granted: z.boolean().optional() }),
  z.object({ ok: z.literal(false), code: z.string(), message: z.string(), retryable: z.boolean() }),
]);
export type AgentResponse = z.infer<typeof AgentResponseSchema>;

/**
 * Before it starts a command, the agent asks whether it may (see decideStart): a separate request and answer from
 * the fleet's, through the same function, so the fleet's answers keep their one shape.
 */
export const JobStartRequestSchema = z.object({ action: z.literal('jobStarting'), identity: AgentIdentitySchema, report: WorkerReportSchema });
export type JobStartRequest = z.infer<typeof JobStartRequestSchema>;

export const JobStartResponseSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), verdict: z.enum(['proceed', 'cancelled', 'over']) }),
  z.object({ ok: z.literal(false), code: z.string(), message: z.string(), retryable: z.boolean() }),
]);
export type JobStartResponse = z.infer<typeof JobStartResponseSchema>;

/** Everything worker-control accepts. */
export const ControlRequestSchema = z.discriminatedUnion('action', [...AgentRequestSchema.options, JobStartRequestSchema]);
