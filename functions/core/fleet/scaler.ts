import { FleetBoundError } from './errors.ts';
import type { FleetContext } from './fleet-context.ts';
import type { FleetStatus, QueueDepth } from './ports.ts';
import type { ProvisioningService } from './provisioning.ts';

export interface ScalerDeps {
  fleet: FleetContext;
  provisioning: ProvisioningService;
  queueDepth: QueueDepth;
  log?: (message: string, details: Record<string, unknown>) => void;
}

export interface ScaleDecision {
  workerClass: string;
  waiting: number;
  inFlight: number;
  desired: number;
  activeBefore: number;
  launched: string[];
  /** Set when the class's recent launches failed and the scaler waits before trying again. */
  backingOffUntil?: string;
}

/** After n provisioning failures in a row the scaler waits min(BASE × 2^(n−1), MAX) before launching again. */
export const LAUNCH_BACKOFF = { baseSeconds: 60, maxSeconds: 30 * 60 } as const;

/** When the scaler may launch again for a class whose launches keep failing; undefined: now. */
export function launchBackoffUntil(status: FleetStatus): Date | undefined {
  if (status.consecutiveFailures === 0 || !status.lastFailureAt) return undefined;
  const seconds = Math.min(LAUNCH_BACKOFF.maxSeconds, LAUNCH_BACKOFF.baseSeconds * 2 ** (status.consecutiveFailures - 1));
  return new Date(Date.parse(status.lastFailureAt) + seconds * 1000);
}

/** Lost races in one run before the scaler leaves the rest to its next run (another scaler is launching). */
const MAX_LOST_RACES = 3;
export const SCALER_ACTOR = 'forgeflow-scaler';

/** desired = clamp(ceil((waiting + in flight) / slots), min, max). */
export function desiredWorkers(demand: number, slots: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, Math.ceil(demand / slots)));
}

/**
 * One reconciler per class, run on a schedule and nudged when jobs are dispatched. It only ever launches: scale-in
 * is the agents' handshake (AgentControl.requestDrain), so the scaler can never stop a worker that holds a job.
 *
 * After failed launches the scaler backs off per class (launchBackoffUntil); one that reaches READY resets it.
 *
 * Each launch is conditioned on the active count the scaler read, so two scalers running at once (schedule and
 * nudge) cannot both fill the same deficit: the loser re-reads and finds less to do.
 */
export class Scaler {
  constructor(private readonly deps: ScalerDeps) {}

  async reconcile(workerClassName: string, correlationId: string): Promise<ScaleDecision> {
    const { fleet } = this.deps;
    const workerClass = fleet.classes(workerClassName);
    const { waiting, inFlight } = await this.deps.queueDepth.depth(workerClass.name);
    const desired = desiredWorkers(waiting + inFlight, workerClass.slotsPerWorker, workerClass.minWorkers, workerClass.maxWorkers);
    const status = await fleet.store.fleetStatus(workerClass.name);
    let active = status.active;
    const decision: ScaleDecision = { workerClass: workerClass.name, waiting, inFlight, desired, activeBefore: active, launched: [] };
    // A class whose launches keep failing (no capacity anywhere, a quota, a missing AMI) is retried less and less
    // often, rather than every minute: each try costs RunInstances calls and leaves a FAILED worker behind.
    const backoff = launchBackoffUntil(status);
    if (backoff && backoff > fleet.clock.now() && active < desired) {
      decision.backingOffUntil = backoff.toISOString();
      return decision;
    }
    let lostRaces = 0;
    while (active < desired && lostRaces < MAX_LOST_RACES) {
      try {
        const worker = await this.deps.provisioning.create({ workerClass: workerClass.name, requestedBy: SCALER_ACTOR, correlationId }, { expectActive: active });
        active += 1;
        decision.launched.push(worker.workerId);
        await this.deps.provisioning.startOrLeaveToReaper(worker);
      } catch (error) {
        if (!(error instanceof FleetBoundError)) throw error;
        lostRaces += 1;
        active = await fleet.store.activeCount(workerClass.name);
      }
    }
    return decision;
  }
}
