import * as z from 'zod';
import { ForbiddenError } from '../errors.ts';
import { isPlatformAdmin, seesFleet } from '../roles.ts';
import type { Actor } from '../job-service.ts';
import { DETAILED_MONITORING_COST } from '../../declarations/metrics.ts';
import { workerEvent } from '../events.ts';
import {
  FleetAtMaximumError,
  FleetBoundError,
  MetricsUnavailableError,
  MonitoringNotApplicableError,
  UnknownAmiNameError,
  UnknownInstanceTypeError,
  WorkerNotFoundError,
  WorkerStateConflictError,
} from './errors.ts';
import type { WorkerMetricsCollector } from './metrics-collector.ts';
import type { MonitoringControl } from './metrics-ports.ts';
import type { FleetContext } from './fleet-context.ts';
import type { ListWorkersQuery, WorkerPage } from './ports.ts';
import type { ProvisioningService } from './provisioning.ts';
import type { WorkerRemoval } from './removal.ts';
import { TerminationReason, type WorkerRecord } from './worker.ts';
import { isEndedWorker, WorkerState } from './worker-state.ts';

export interface WorkerServiceDeps {
  fleet: FleetContext;
  provisioning: ProvisioningService;
  removal: WorkerRemoval;
  collector?: WorkerMetricsCollector;
  /** Absent where workers are not EC2 instances (the local runtime). */
  monitoring?: MonitoringControl;
}

/** What switching detailed monitoring costs, as the endpoint tells the admin. */
export const MonitoringCostSchema = z
  .object({
    detailedMonitoring: z.boolean(),
    metrics: z.number().int().nonnegative().meta({ description: 'EC2 metrics per instance the switch concerns' }),
    resolutionSeconds: z.number().int().positive().meta({ description: '60 with detailed monitoring, 300 without' }),
    monthlyCostUsd: z.number().nonnegative().meta({ description: 'USD per month for this worker at list price; 0 with basic monitoring (free)' }),
    pricing: z.string().meta({ description: 'Where the price comes from' }),
  })
  .meta({ id: 'MonitoringCost' });
export type MonitoringCost = z.output<typeof MonitoringCostSchema>;

export interface LaunchWorkerRequest {
  workerClass: string;
  amiName?: string;
  instanceType?: string;
}


/** The fleet as admins and operators see it through the API. Roles are checked here, in the use case. */
export class WorkerService {
  constructor(private readonly deps: WorkerServiceDeps) {}

  async list(actor: Actor, query: ListWorkersQuery): Promise<WorkerPage> {
    requireOperator(actor);
    if (query.class) this.deps.fleet.classes(query.class);
    return this.deps.fleet.store.list(query);
  }

  async get(actor: Actor, workerId: string): Promise<WorkerRecord> {
    requireOperator(actor);
    const worker = await this.deps.fleet.store.get(workerId);
    if (!worker) throw new WorkerNotFoundError(workerId);
    return worker;
  }

  /** Launches one worker now, beyond what the scaler wants but never beyond the class's maximum. */
  async launch(actor: Actor, request: LaunchWorkerRequest, correlationId: string): Promise<WorkerRecord> {
    requireAdmin(actor);
    const workerClass = this.deps.fleet.classes(request.workerClass);
    if (request.amiName && !(request.amiName in workerClass.amis)) throw new UnknownAmiNameError(workerClass.name, request.amiName, Object.keys(workerClass.amis));
    if (request.instanceType && !workerClass.instanceTypes.includes(request.instanceType)) {
      throw new UnknownInstanceTypeError(workerClass.name, request.instanceType, workerClass.instanceTypes);
    }
    let worker: WorkerRecord;
    try {
      worker = await this.deps.provisioning.create({ ...request, requestedBy: actor.sub, correlationId }, { belowMax: workerClass.maxWorkers });
    } catch (error) {
      if (error instanceof FleetBoundError) throw new FleetAtMaximumError(workerClass.name, workerClass.maxWorkers);
      throw error;
    }
    await this.deps.provisioning.startOrLeaveToReaper(worker);
    return worker;
  }

  /**
   * Removes a worker. Without force it drains: the agent finishes its jobs, then exits. With force the instance is
   * terminated now and its jobs go back to their sagas (WORKER_LOST, retried elsewhere). A worker still starting
   * has no jobs: it is terminated either way. Removing an ended worker changes nothing.
   */
  async remove(actor: Actor, workerId: string, force: boolean, correlationId: string): Promise<WorkerRecord> {
    requireAdmin(actor);
    const worker = await this.get(actor, workerId);
    const starting = worker.state === WorkerState.PROVISIONING || worker.state === WorkerState.BOOTING;
    if (force || starting) return this.deps.removal.terminateNow(workerId, TerminationReason.FORCED, `Removed by ${actor.sub}${force ? ' (force)' : ''}`, { correlationId });
    return this.deps.removal.drain(workerId, TerminationReason.REQUESTED, false, correlationId);
  }

  /** Collects all three sources for one worker now, and returns it with the fresh blocks. */
  async refresh(actor: Actor, workerId: string, correlationId: string): Promise<WorkerRecord> {
    const worker = await this.get(actor, workerId);
    if (!this.deps.collector) throw new MetricsUnavailableError();
    return this.deps.collector.collectWorker(worker, correlationId);
  }

  /**
   * Switches EC2 detailed (1-minute) monitoring of a worker's instance, records it with its event, and answers
   * what it costs. EC2 first: a recorded state that EC2 never took would be a lie; a repeat is harmless.
   */
  async setMonitoring(actor: Actor, workerId: string, enabled: boolean, correlationId: string): Promise<{ worker: WorkerRecord; monitoring: MonitoringCost }> {
    if (!isPlatformAdmin(actor)) throw new ForbiddenError('Only platform admins may switch detailed monitoring (it is billed per instance)');
    const { fleet } = this.deps;
    const current = await this.get(actor, workerId);
    if (!this.deps.monitoring) throw new MonitoringNotApplicableError(workerId, 'local workers are processes, not EC2 instances');
    if (isEndedWorker(current.state) || !current.instanceId) throw new WorkerStateConflictError(workerId, current.state, 'change its monitoring');
    await this.deps.monitoring.setDetailedMonitoring(current.instanceId, enabled);
    const worker = await fleet.mutate(workerId, () => new WorkerNotFoundError(workerId), async (w) => {
      if ((w.detailedMonitoring ?? false) === enabled) return w;
      const next = { ...w, detailedMonitoring: enabled, version: w.version + 1, updatedAt: fleet.now() };
      const event = workerEvent('WorkerMonitoringChanged', next, w.state, { detailedMonitoring: enabled, requestedBy: actor.sub }, fleet.eventContext(correlationId));
      await fleet.store.commit({ worker: next, expected: { state: w.state, version: w.version }, event, fleet: { class: w.class, delta: 0 } });
      return next;
    });
    return { worker, monitoring: monitoringCost(enabled) };
  }
}

function monitoringCost(enabled: boolean): MonitoringCost {
  const cost = DETAILED_MONITORING_COST;
  return { detailedMonitoring: enabled, metrics: cost.metricsPerInstance, resolutionSeconds: enabled ? 60 : 300, monthlyCostUsd: enabled ? cost.usdPerInstanceMonth : 0, pricing: cost.source };
}

function requireOperator(actor: Actor): void {
  if (!seesFleet(actor)) throw new ForbiddenError('Only platform admins and operators may see workers');
}

function requireAdmin(actor: Actor): void {
  if (!isPlatformAdmin(actor)) throw new ForbiddenError('Only platform admins may launch or remove workers');
}
