import { ForbiddenError } from '../errors.ts';
import { isPlatformAdmin, seesFleet } from '../roles.ts';
import type { Actor } from '../job-service.ts';
import { FleetAtMaximumError, FleetBoundError, UnknownAmiNameError, UnknownInstanceTypeError, WorkerNotFoundError } from './errors.ts';
import type { FleetContext } from './fleet-context.ts';
import type { ListWorkersQuery, WorkerPage } from './ports.ts';
import type { ProvisioningService } from './provisioning.ts';
import type { WorkerRemoval } from './removal.ts';
import { TerminationReason, type WorkerRecord } from './worker.ts';
import { WorkerState } from './worker-state.ts';

export interface WorkerServiceDeps {
  fleet: FleetContext;
  provisioning: ProvisioningService;
  removal: WorkerRemoval;
}

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
}

function requireOperator(actor: Actor): void {
  if (!seesFleet(actor)) throw new ForbiddenError('Only platform admins and operators may see workers');
}

function requireAdmin(actor: Actor): void {
  if (!isPlatformAdmin(actor)) throw new ForbiddenError('Only platform admins may launch or remove workers');
}
