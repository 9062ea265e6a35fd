import { workerEvent } from '../events.ts';
import { newWorkerId } from './worker-id.ts';
import { WorkerNotFoundError } from './errors.ts';
import type { FleetContext } from './fleet-context.ts';
import { launchCandidates, launchWithFallback, type LaunchWalkDeps } from './launch-plan.ts';
import type { FleetMove, ProvisioningRunner, WorkerProvider } from './ports.ts';
import { describeProvisioningFailure, ProvisioningError, reasonOfErrorName, type WorkerFailure } from './provisioning-failures.ts';
import { AgentDirective, type WorkerRecord } from './worker.ts';
import { isEndedWorker, WorkerState } from './worker-state.ts';

export interface NewWorkerRequest {
  workerClass: string;
  amiName?: string;
  instanceType?: string;
  requestedBy: string;
  correlationId: string;
}

export interface ProvisioningDeps extends LaunchWalkDeps {
  fleet: FleetContext;
  provider: WorkerProvider;
  runner: ProvisioningRunner;
  region: string;
  /** Subnets per class when the class declares none (the stack's VPC); absent: let EC2 choose. */
  defaultSubnetIds?: readonly string[];
  log?: (message: string, details: Record<string, unknown>) => void;
}

/** What the saga carries from step to step: small, so the execution's state stays far below its size limit. */
export interface ProvisioningState {
  workerId: string;
  bootDeadlineSeconds: number;
}

/** The worker is no longer one this execution may provision (removed, or provisioned by an earlier run). */
export class WorkerNotProvisionableError extends Error {
  override name = 'WorkerNotProvisionable';
}

const { PROVISIONING, BOOTING, READY, FAILED } = WorkerState;

/**
 * The provisioning saga's steps (statemachines/provision-worker.asl.json) and the one way a worker comes to be.
 * Each step is idempotent: Step Functions may run a step twice, and a duplicate start runs into the same records.
 */
export class ProvisioningService {
  constructor(private readonly deps: ProvisioningDeps) {}

  /** A new PROVISIONING worker with its event, counted in its class in the same write under `bound`. */
  async create(request: NewWorkerRequest, bound: Omit<FleetMove, 'class' | 'delta'>): Promise<WorkerRecord> {
    const { fleet } = this.deps;
    const workerClass = fleet.classes(request.workerClass);
    const now = fleet.now();
    const worker: WorkerRecord = {
      workerId: newWorkerId(),
      class: workerClass.name,
      state: PROVISIONING,
      version: 1,
      region: this.deps.region,
      amiName: request.amiName ?? workerClass.defaultAmi,
      slots: workerClass.slotsPerWorker,
      runningJobs: 0,
      runningJobIds: [],
      directive: AgentDirective.CONTINUE,
      createdAt: now,
      updatedAt: now,
      requestedBy: request.requestedBy,
      detailedMonitoring: workerClass.detailedMonitoring,
      ...(request.instanceType ? { preferredInstanceType: request.instanceType } : {}),
    };
    const event = workerEvent('WorkerProvisioning', worker, null, { amiName: worker.amiName, requestedBy: request.requestedBy }, fleet.eventContext(request.correlationId));
    await fleet.store.commit({ worker, event, fleet: { class: worker.class, delta: 1, ...bound } });
    return worker;
  }

  /**
   * Step RecordProvisioning: the worker exists and is still starting; what the later steps need. A BOOTING worker
   * is one an earlier run launched (a restarted saga): the run carries on from there.
   */
  async recordProvisioning(input: { workerId: string }): Promise<ProvisioningState> {
    const worker = await this.deps.fleet.store.get(input.workerId);
    if (!worker) throw new WorkerNotFoundError(input.workerId);
    if (worker.state !== PROVISIONING && worker.state !== BOOTING) throw new WorkerNotProvisionableError(`Worker ${worker.workerId} is ${worker.state}; nothing to provision`);
    return { workerId: worker.workerId, bootDeadlineSeconds: this.deps.fleet.classes(worker.class).bootDeadlineSeconds };
  }

  /** Step Launch: resolves the AMI, walks the fallback, records BOOTING with the instance. */
  launch(input: { workerId: string }): Promise<{ instanceId: string }> {
    const { fleet } = this.deps;
    return fleet.mutate(input.workerId, () => new WorkerNotFoundError(input.workerId), async (worker) => {
      if (worker.state === BOOTING && worker.instanceId) return { instanceId: worker.instanceId };
      if (worker.state !== PROVISIONING) throw new WorkerNotProvisionableError(`Worker ${worker.workerId} is ${worker.state}; nothing to launch`);
      const workerClass = fleet.classes(worker.class);
      const image = await this.deps.provider.resolveImage(workerClass, worker.amiName);
      const candidates = launchCandidates(workerClass, {
        ...(worker.preferredInstanceType ? { preferredInstanceType: worker.preferredInstanceType } : {}),
        ...(workerClass.subnetIds ?? this.deps.defaultSubnetIds ? { subnetIds: workerClass.subnetIds ?? this.deps.defaultSubnetIds } : {}),
      });
      const { instance } = await launchWithFallback({ workerId: worker.workerId, workerClass, image }, candidates, this.deps);
      const next = fleet.next(worker, BOOTING, {
        instanceId: instance.instanceId,
        instanceType: instance.instanceType,
        availabilityZone: instance.availabilityZone,
        market: instance.market,
        amiId: image.amiId,
        launchedAt: fleet.now(),
      });
      await fleet.transition(worker, next, 'WorkerLaunched', { ...instance, amiId: image.amiId }, worker.workerId);
      return { instanceId: instance.instanceId };
    });
  }

  /**
   * Step AwaitAgent (lambda:invoke.waitForTaskToken): keeps the task token on the worker, unless the agent
   * registered first, in which case the step answers the task itself. The two conditional writes (here and in
   * AgentControl.register) touch the same item, so exactly one of them sees the other.
   */
  awaitAgent(input: { workerId: string; taskToken: string }): Promise<{ registeredAlready: boolean }> {
    const { fleet } = this.deps;
    return fleet.mutate(input.workerId, () => new WorkerNotFoundError(input.workerId), async (worker) => {
      if (worker.state !== BOOTING) throw new WorkerNotProvisionableError(`Worker ${worker.workerId} is ${worker.state}, not BOOTING`);
      if (worker.registeredAt) {
        await this.deps.runner.registrationSucceeded(input.taskToken, { workerId: worker.workerId, agentVersion: worker.agentVersion ?? 'unknown' });
        return { registeredAlready: true };
      }
      await fleet.store.update({ ...worker, registrationToken: input.taskToken, version: worker.version + 1, updatedAt: fleet.now() }, { state: worker.state, version: worker.version });
      return { registeredAlready: false };
    });
  }

  /** Step RecordReady: BOOTING → READY. */
  recordReady(input: { workerId: string; agentVersion?: string }): Promise<WorkerRecord> {
    const { fleet } = this.deps;
    return fleet.mutate(input.workerId, () => new WorkerNotFoundError(input.workerId), async (worker) => {
      if (worker.state === READY) return worker;
      const { registrationToken: _t, ...rest } = worker;
      const agentVersion = input.agentVersion ?? worker.agentVersion;
      const now = fleet.now();
      const next = fleet.next(rest, READY, { readyAt: now, lastHeartbeatAt: now, ...(agentVersion ? { agentVersion } : {}) });
      return fleet.transition(worker, next, 'WorkerReady', agentVersion ? { agentVersion } : {}, worker.workerId, { provisioning: { outcome: 'ready', at: now } });
    });
  }

  /** Compensation TerminateInstance: by the recorded id, or by tag when the launch never got to record it. */
  async terminateInstance(input: { workerId: string }): Promise<{ terminated: string[] }> {
    const worker = await this.deps.fleet.store.get(input.workerId);
    const ids = new Set<string>(worker?.instanceId ? [worker.instanceId] : []);
    if (!worker?.instanceId) {
      for (const instance of await this.deps.provider.listInstances()) if (instance.workerId === input.workerId) ids.add(instance.instanceId);
    }
    await this.deps.provider.terminate([...ids]);
    return { terminated: [...ids] };
  }

  /** Step RecordFailed: the caught error as a catalog failure; the worker ends FAILED (unless it ended already). */
  recordFailed(input: { workerId: string; error: { Error: string; Cause?: string } }): Promise<WorkerFailure> {
    const { fleet } = this.deps;
    const failure = failureOf(input.error);
    return fleet.mutate(input.workerId, () => new WorkerNotFoundError(input.workerId), async (worker) => {
      if (isEndedWorker(worker.state) || (worker.state !== PROVISIONING && worker.state !== BOOTING)) return worker.failure ?? failure;
      const { registrationToken: _t, ...rest } = worker;
      const next = fleet.next(rest, FAILED, { failure, terminatedAt: fleet.now() });
      await fleet.transition(worker, next, 'WorkerProvisioningFailed', { failure }, worker.workerId, { provisioning: { outcome: 'failed', at: next.updatedAt } });
      return failure;
    });
  }

  /** Starts the saga of a worker (idempotent: the execution is named after it). */
  async start(worker: Pick<WorkerRecord, 'workerId'>): Promise<void> {
    await this.deps.runner.start(worker.workerId);
  }

  /**
   * Starts the saga of a worker just created. A failed start is not the caller's failure: the worker exists, stays
   * PROVISIONING, and the reaper starts its saga again (an error here would invite a retry that launches a second).
   */
  async startOrLeaveToReaper(worker: Pick<WorkerRecord, 'workerId'>): Promise<void> {
    try {
      await this.start(worker);
    } catch (error) {
      this.deps.log?.('provisioning start failed; the reaper starts it again', { workerId: worker.workerId, error: (error as Error).message });
    }
  }
}

/** The message a Lambda error carries in Cause is JSON {errorType, errorMessage}; a timeout's is plain text. */
function failureOf(error: { Error: string; Cause?: string }): WorkerFailure {
  const reason = reasonOfErrorName(error.Error);
  let message = error.Cause ?? error.Error;
  try {
    const parsed = JSON.parse(message) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') message = parsed.errorMessage;
  } catch {
    // Plain text: keep it.
  }
  if (reason === 'AGENT_NEVER_REGISTERED' && error.Error === 'States.Timeout') message = 'The agent did not register before the boot deadline';
  return describeProvisioningFailure(reason, message.slice(0, 2000));
}

export { ProvisioningError };
