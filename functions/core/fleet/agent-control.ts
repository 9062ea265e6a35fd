import { FleetBoundError, WorkerConflictError, WorkerNotFoundError } from './errors.ts';
import type { FleetContext } from './fleet-context.ts';
import type { ProvisioningRunner, WorkerProvider } from './ports.ts';
import { AgentDirective, TerminationReason, type WorkerRecord } from './worker.ts';
import { isEndedWorker, WorkerState } from './worker-state.ts';
import type { AgentIdentity, AgentInstruction } from './agent-protocol.ts';
import type { AgentStats } from './worker-metrics.ts';

/** The agent registered before its worker was recorded as launched: it tries again shortly. */
export class WorkerNotLaunchedYetError extends Error {
  override name = 'WorkerNotLaunchedYet';
}

/** The identity does not match the worker's record or its instance: refused. */
export class AgentIdentityError extends Error {
  override name = 'AgentIdentityRejected';
}

export interface AgentControlDeps {
  fleet: FleetContext;
  provider: WorkerProvider;
  runner: ProvisioningRunner;
}

const { PROVISIONING, BOOTING, READY, DRAINING, TERMINATED } = WorkerState;

/**
 * The agent's side of the fleet: registration, heartbeats, the scale-in handshake and the goodbye. Agents have no
 * database access; they call this through the worker-control function, which checks who they are.
 */
export class AgentControl {
  constructor(private readonly deps: AgentControlDeps) {}

  /**
   * The agent announces itself. The instance must exist, be ours, carry this worker id, and be the one recorded.
   * While the provisioning saga waits, registration answers its task token (or leaves a mark the saga finds).
   */
  async register(identity: AgentIdentity): Promise<AgentInstruction> {
    const worker = await this.verified(identity);
    if (worker.state === PROVISIONING) throw new WorkerNotLaunchedYetError(`Worker ${worker.workerId} is not recorded as launched yet; register again`);
    if (worker.state === BOOTING) await this.markRegistered(worker, identity);
    return this.instruction(worker);
  }

  /** Records liveness and what the agent runs; answers with what it should do next. */
  async heartbeat(identity: AgentIdentity, running: { jobIds: readonly string[] }, stats?: AgentStats): Promise<AgentInstruction> {
    const { fleet } = this.deps;
    const now = fleet.now();
    const stored = await fleet.store.heartbeat(identity.workerId, {
      lastHeartbeatAt: now,
      runningJobs: running.jobIds.length,
      runningJobIds: [...running.jobIds],
      agentVersion: identity.agentVersion,
      ...(stats ? { agentReport: { stats, agentVersion: identity.agentVersion, reportedAt: now } } : {}),
    });
    if (stored) {
      if (stored.instanceId !== identity.instanceId) throw new AgentIdentityError(`Worker ${identity.workerId} does not run on ${identity.instanceId}`);
      return this.instruction(stored);
    }
    const worker = await fleet.store.get(identity.workerId);
    if (!worker) throw new WorkerNotFoundError(identity.workerId);
    return this.instruction(worker);
  }

  /**
   * The scale-in handshake: an idle agent asks to leave. Granted only while the class keeps its minimum (the
   * active count is conditioned in the same write), so two idle agents can never both take the fleet below it.
   */
  requestDrain(identity: AgentIdentity): Promise<{ granted: boolean; instruction: AgentInstruction }> {
    const { fleet } = this.deps;
    return fleet.mutate(identity.workerId, () => new WorkerNotFoundError(identity.workerId), async (worker) => {
      if (worker.instanceId !== identity.instanceId) throw new AgentIdentityError(`Worker ${identity.workerId} does not run on ${identity.instanceId}`);
      if (worker.state !== READY) return { granted: worker.state === DRAINING, instruction: this.instruction(worker) };
      const workerClass = fleet.classes(worker.class);
      const next = fleet.next(worker, DRAINING, { directive: AgentDirective.DRAIN, drainingAt: fleet.now() });
      try {
        await fleet.transition(worker, next, 'WorkerDraining', { reason: TerminationReason.IDLE, releaseJobs: false }, worker.workerId, { aboveMin: workerClass.minWorkers });
      } catch (error) {
        if (error instanceof FleetBoundError) return { granted: false, instruction: this.instruction(worker) };
        throw error;
      }
      return { granted: true, instruction: this.instruction(next) };
    });
  }

  /** The agent drained and is exiting: its instance is terminated (it also powers itself off) and the worker ends. */
  goodbye(identity: AgentIdentity): Promise<WorkerRecord> {
    const { fleet } = this.deps;
    return fleet.mutate(identity.workerId, () => new WorkerNotFoundError(identity.workerId), async (worker) => {
      if (worker.instanceId !== identity.instanceId) throw new AgentIdentityError(`Worker ${identity.workerId} does not run on ${identity.instanceId}`);
      if (isEndedWorker(worker.state)) return worker;
      await this.deps.provider.terminate([identity.instanceId]);
      const reason = worker.termination?.reason ?? (worker.state === DRAINING ? TerminationReason.IDLE : TerminationReason.DRAINED);
      const message = `The agent drained and exited (${reason.toLowerCase()})`;
      const next = fleet.next(worker, TERMINATED, { terminatedAt: fleet.now(), runningJobs: 0, runningJobIds: [], termination: { reason, message } });
      return fleet.transition(worker, next, 'WorkerTerminated', { reason, message }, worker.workerId);
    });
  }

  private instruction(worker: WorkerRecord): AgentInstruction {
    const workerClass = this.deps.fleet.classes(worker.class);
    const directive = isEndedWorker(worker.state) || worker.state === WorkerState.TERMINATING ? AgentDirective.RELEASE : worker.directive;
    return {
      directive,
      heartbeatIntervalSeconds: workerClass.heartbeatIntervalSeconds,
      idleTimeoutSeconds: workerClass.idleTimeoutSeconds,
      minRunningSeconds: workerClass.minRunningSeconds,
    };
  }

  /** The record and the instance both vouch for the identity. */
  private async verified(identity: AgentIdentity): Promise<WorkerRecord> {
    const worker = await this.deps.fleet.store.get(identity.workerId);
    if (!worker) throw new WorkerNotFoundError(identity.workerId);
    if (worker.instanceId !== undefined && worker.instanceId !== identity.instanceId) {
      throw new AgentIdentityError(`Worker ${identity.workerId} runs on ${worker.instanceId}, not ${identity.instanceId}`);
    }
    const instance = await this.deps.provider.describe(identity.instanceId);
    // EC2's Describe* is eventually consistent: an instance unknown for now may be one that just launched.
    if (!instance) throw new WorkerNotLaunchedYetError(`Instance ${identity.instanceId} is not known yet; register again`);
    if (instance.workerId !== identity.workerId || instance.state === 'terminated' || instance.state === 'shutting-down') {
      throw new AgentIdentityError(`Instance ${identity.instanceId} is not a live instance of worker ${identity.workerId}`);
    }
    return worker;
  }

  /** Sets `registeredAt`, unless the saga already left its token, in which case the token is answered instead. */
  private async markRegistered(worker: WorkerRecord, identity: AgentIdentity): Promise<void> {
    const { fleet } = this.deps;
    if (worker.registrationToken) {
      await this.deps.runner.registrationSucceeded(worker.registrationToken, { workerId: worker.workerId, agentVersion: identity.agentVersion });
      return;
    }
    try {
      await fleet.store.update(
        { ...worker, registeredAt: fleet.now(), agentVersion: identity.agentVersion, version: worker.version + 1, updatedAt: fleet.now() },
        { state: worker.state, version: worker.version },
      );
    } catch (error) {
      if (!(error instanceof WorkerConflictError)) throw error;
      // The saga stored its token between our read and our write: answer it now.
      const current = await fleet.store.get(worker.workerId);
      if (current?.registrationToken) await this.deps.runner.registrationSucceeded(current.registrationToken, { workerId: worker.workerId, agentVersion: identity.agentVersion });
    }
  }
}
