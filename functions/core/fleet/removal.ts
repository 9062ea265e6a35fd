import { WorkerNotFoundError } from './errors.ts';
import type { FleetContext } from './fleet-context.ts';
import type { JobReleaser, WorkerProvider } from './ports.ts';
import { AgentDirective, TerminationReason, type WorkerRecord } from './worker.ts';
import { canWorkerTransition as canLeaveFor, isEndedWorker, WorkerState } from './worker-state.ts';

export interface RemovalDeps {
  fleet: FleetContext;
  provider: WorkerProvider;
  /** Absent: held jobs come back when their dispatch messages' visibility lapses. */
  releaser?: JobReleaser;
  log?: (message: string, details: Record<string, unknown>) => void;
}

const { PROVISIONING, BOOTING, READY, DRAINING, TERMINATING, TERMINATED, FAILED } = WorkerState;

/**
 * The ways a worker leaves, shared by the reaper, spot interruptions and admins. A drain asks the agent to go
 * (it finishes or releases its jobs, then exits); a termination ends the instance now and hands its jobs back to
 * their sagas at once.
 */
export class WorkerRemoval {
  constructor(private readonly deps: RemovalDeps) {}

  /** READY → DRAINING; `releaseJobs` makes the agent give its jobs back at once rather than finish them. */
  drain(workerId: string, reason: TerminationReason, releaseJobs: boolean, correlationId = workerId): Promise<WorkerRecord> {
    const { fleet } = this.deps;
    return fleet.mutate(workerId, () => new WorkerNotFoundError(workerId), async (worker) => {
      const directive = releaseJobs ? AgentDirective.RELEASE : AgentDirective.DRAIN;
      if (worker.state === DRAINING) {
        if (worker.directive === directive || worker.directive === AgentDirective.RELEASE) return worker;
        const sharper = { ...worker, directive, version: worker.version + 1, updatedAt: fleet.now() };
        await fleet.store.update(sharper, { state: worker.state, version: worker.version });
        return sharper;
      }
      if (worker.state !== READY) return worker;
      const next = fleet.next(worker, DRAINING, { directive, drainingAt: fleet.now(), termination: { reason, message: `Draining: ${reason.toLowerCase()}` } });
      return fleet.transition(worker, next, 'WorkerDraining', { reason, releaseJobs }, correlationId);
    });
  }

  /**
   * Terminates the instance and ends the worker TERMINATED (or FAILED, if it never became READY), then fails the
   * tasks of the jobs it held so their sagas retry them elsewhere without waiting for visibility to lapse.
   */
  terminateNow(workerId: string, reason: TerminationReason, message: string, options: { failure?: WorkerRecord['failure']; correlationId?: string } = {}): Promise<WorkerRecord> {
    const { failure, correlationId = workerId } = options;
    const { fleet } = this.deps;
    return fleet.mutate(workerId, () => new WorkerNotFoundError(workerId), async (worker) => {
      if (isEndedWorker(worker.state)) return worker;
      const { registrationToken: _t, ...rest } = worker;
      const termination = { reason, message };
      if (worker.instanceId && !(await this.terminateInstance(worker.instanceId))) {
        // The call failed (throttled, say): TERMINATING tells the reaper to try again; the jobs wait for that.
        if (worker.state === TERMINATING || !canLeaveFor(worker.state, TERMINATING)) return worker;
        return fleet.transition(worker, fleet.next(rest, TERMINATING, { termination }), 'WorkerTerminating', { reason }, correlationId);
      }
      const starting = worker.state === PROVISIONING || worker.state === BOOTING;
      const next = fleet.next(rest, starting && failure ? FAILED : TERMINATED, { terminatedAt: fleet.now(), runningJobs: 0, runningJobIds: [], termination, ...(failure ? { failure } : {}) });
      const stored =
        next.state === FAILED && failure
          ? await fleet.transition(worker, next, 'WorkerProvisioningFailed', { failure }, correlationId, { provisioning: { outcome: 'failed', at: next.updatedAt } })
          : await fleet.transition(worker, next, 'WorkerTerminated', { reason, message }, correlationId);
      await this.releaseJobs(worker);
      return stored;
    });
  }

  private async terminateInstance(instanceId: string): Promise<boolean> {
    try {
      await this.deps.provider.terminate([instanceId]);
      return true;
    } catch (error) {
      this.deps.log?.('terminating an instance failed; the reaper tries again', { instanceId, error: (error as Error).message });
      return false;
    }
  }

  private async releaseJobs(worker: WorkerRecord): Promise<void> {
    if (!this.deps.releaser || worker.runningJobIds.length === 0) return;
    try {
      await this.deps.releaser.releaseJobs(worker.workerId, worker.runningJobIds);
    } catch (error) {
      // Not fatal. A job not yet stopped comes back when its message's visibility lapses and another worker takes it.
      // One stopped but whose task could not be failed is refused to every agent (core/lost-attempt.ts), and the
      // first whose start names its task fails that task (core/attempt-start.ts); the dispatch timeout and the
      // reconciler's sweep are the backstops.
      this.deps.log?.('releasing the jobs of a removed worker failed; they come back when their messages reappear', { workerId: worker.workerId, error: (error as Error).message });
    }
  }
}

