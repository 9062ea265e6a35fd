import * as z from 'zod';
import type { Market } from '../../declarations/worker-classes.ts';
import { WorkerFailureSchema, type WorkerFailure } from './provisioning-failures.ts';
import { WORKER_STATES, type WorkerState } from './worker-state.ts';
import {
  AgentMetricsSchema,
  CloudWatchMetricsSchema,
  Ec2MetricsSchema,
  THRESHOLD_METRICS,
  ThresholdBreachSchema,
  type AgentStats,
  type WorkerAlerts,
  type WorkerMetrics,
} from './worker-metrics.ts';

/** Why a worker that served ended: the reaper, the scaler handshake, spot and admins each leave their reason. */
export const TerminationReason = {
  IDLE: 'IDLE',
  DRAINED: 'DRAINED',
  LOST: 'LOST',
  MAX_LIFETIME: 'MAX_LIFETIME',
  SPOT_INTERRUPTED: 'SPOT_INTERRUPTED',
  /** An admin asked for it to go (DELETE without force): drained first. */
  REQUESTED: 'REQUESTED',
  /** An admin removed it at once (DELETE with force). */
  FORCED: 'FORCED',
  INSTANCE_GONE: 'INSTANCE_GONE',
} as const;
export type TerminationReason = (typeof TerminationReason)[keyof typeof TerminationReason];
export const TERMINATION_REASONS = Object.values(TerminationReason) as [TerminationReason, ...TerminationReason[]];

/** What the control plane tells an agent in answer to its heartbeat. */
export const AgentDirective = {
  /** Keep taking work. */
  CONTINUE: 'continue',
  /** Take no new work, finish what runs, then exit (the instance powers off). */
  DRAIN: 'drain',
  /** Take no new work and give back what runs at once (spot interruption, forced removal), then exit. */
  RELEASE: 'release',
} as const;
export type AgentDirective = (typeof AgentDirective)[keyof typeof AgentDirective];

/** A worker as the API returns it. */
export interface Worker {
  workerId: string;
  class: string;
  state: WorkerState;
  version: number;
  region: string;
  instanceId?: string;
  availabilityZone?: string;
  instanceType?: string;
  market?: 'spot' | 'on-demand';
  amiName: string;
  amiId?: string;
  slots: number;
  runningJobs: number;
  agentVersion?: string;
  launchedAt?: string;
  readyAt?: string;
  lastHeartbeatAt?: string;
  drainingAt?: string;
  terminatedAt?: string;
  createdAt: string;
  updatedAt: string;
  /** Who asked for it: the scaler, or an admin's `sub`. */
  requestedBy: string;
  failure?: WorkerFailure;
  termination?: { reason: TerminationReason; message: string };
  /** EC2 detailed (1-minute) monitoring: from the class at launch, switched by admins (POST /v1/workers/{id}/monitoring). */
  detailedMonitoring?: boolean;
  /** The collector's blocks, one per source, each stamped with when it was read. */
  metrics?: WorkerMetrics;
  /** CPU or memory thresholds in breach now. */
  alerts?: WorkerAlerts;
}

/** The stored worker plus what only the platform sees. */
export interface WorkerRecord extends Worker {
  /** The provisioning saga's task token while it waits for the agent: a bearer credential, never returned. */
  registrationToken?: string;
  /** Set when the agent registered (possibly before the saga asked for a token). */
  registeredAt?: string;
  /** What the next heartbeat answer tells the agent. */
  directive: AgentDirective;
  /** Job ids the agent said it runs at its last heartbeat (a forced removal fails their tasks). */
  runningJobIds: string[];
  /** Preferences of an explicit launch (POST /v1/workers): tried first. */
  preferredInstanceType?: string;
  /** The figures of the agent's last heartbeat; the collector turns them into the agent block. */
  agentReport?: { stats: AgentStats; agentVersion: string; reportedAt: string };
}

/** The class market as the launch sees it. */
export type ClassMarket = Market;

const at = (description: string) => z.iso.datetime().optional().meta({ description });

/** A worker as the API returns it (toWorkerResource). */
export const WorkerResourceSchema = z
  .object({
    workerId: z.string().meta({ example: 'w-01j9z3q4m5n6p7q8r9s0t1v2w3' }),
    class: z.string().meta({ description: 'Its worker class (functions/declarations/worker-classes.ts)' }),
    state: z.enum(WORKER_STATES),
    version: z.number().int().positive(),
    region: z.string(),
    instanceId: z.string().optional().meta({ description: 'The EC2 instance, once launched (absent for a local worker)' }),
    availabilityZone: z.string().optional(),
    instanceType: z.string().optional(),
    market: z.enum(['spot', 'on-demand']).optional(),
    amiName: z.string(),
    amiId: z.string().optional(),
    slots: z.number().int().nonnegative().meta({ description: 'Jobs it runs at once' }),
    runningJobs: z.number().int().nonnegative(),
    agentVersion: z.string().optional(),
    launchedAt: at('When its instance was launched'),
    readyAt: at('When its agent registered'),
    lastHeartbeatAt: at("Its agent's last heartbeat"),
    drainingAt: at('When it started draining'),
    terminatedAt: at('When it ended'),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
    requestedBy: z.string().meta({ description: "Who asked for it: the scaler, or an admin's `sub`" }),
    failure: WorkerFailureSchema.optional(),
    termination: z.object({ reason: z.enum(TERMINATION_REASONS), message: z.string() }).optional(),
    detailedMonitoring: z.boolean().meta({ description: 'EC2 detailed (1-minute) monitoring' }),
    metrics: z
      .object({ ec2: Ec2MetricsSchema.optional(), cloudWatch: CloudWatchMetricsSchema.optional(), agent: AgentMetricsSchema.optional() })
      .meta({ description: 'One block per source, each stamped with when it was read' }),
    alerts: z
      .partialRecord(z.enum(THRESHOLD_METRICS), ThresholdBreachSchema)
      .meta({ description: 'CPU or memory thresholds in breach now; absent metrics are below their threshold' }),
  })
  .meta({ id: 'Worker' });
export type WorkerResource = z.output<typeof WorkerResourceSchema>;

// Compile-time: WorkerResourceSchema names exactly the fields of Worker, so the API's description cannot miss one.
const _resourceHasWorkerFields: [keyof Worker] extends [keyof WorkerResource] ? ([keyof WorkerResource] extends [keyof Worker] ? true : never) : never = true;

/** The public view: the task token and agent bookkeeping stay inside. */
export function toWorkerResource(worker: WorkerRecord): WorkerResource {
  const { registrationToken: _t, registeredAt: _r, directive: _d, runningJobIds: _j, preferredInstanceType: _p, agentReport: _a, ...resource } = worker;
  return { ...resource, detailedMonitoring: worker.detailedMonitoring ?? false, metrics: worker.metrics ?? {}, alerts: worker.alerts ?? {} };
}
