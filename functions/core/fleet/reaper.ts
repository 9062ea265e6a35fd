import { HEARTBEAT_MISSES_BEFORE_LOST, type ResolvedWorkerClass } from '../../declarations/worker-classes.ts';
import type { FleetContext } from './fleet-context.ts';
import type { InstanceSummary, WorkerProvider } from './ports.ts';
import type { ProvisioningService } from './provisioning.ts';
import { describeProvisioningFailure } from './provisioning-failures.ts';
import type { WorkerRemoval } from './removal.ts';
import { TerminationReason, type WorkerRecord } from './worker.ts';
import { isEndedWorker, WorkerState, type WorkerState as State } from './worker-state.ts';

export interface ReaperDeps {
  fleet: FleetContext;
  provider: WorkerProvider;
  provisioning: ProvisioningService;
  removal: WorkerRemoval;
  classNames: readonly string[];
  log?: (message: string, details: Record<string, unknown>) => void;
}

export interface ReapReport {
  orphansTerminated: string[];
  neverRegistered: string[];
  lost: string[];
  retired: string[];
  sagasRestarted: string[];
  terminationsRetried: string[];
}

/** After the boot deadline the saga fails the worker itself; the reaper steps in only once this much more has passed. */
export const REAPER_GRACE_SECONDS = 120;
/** A PROVISIONING worker this old whose saga never moved it is started again (the start is idempotent). */
const RESTART_SAGA_AFTER_SECONDS = 60;

const { PROVISIONING, BOOTING, READY, DRAINING, TERMINATING } = WorkerState;

/**
 * The reaper, every few minutes: it ends what the happy paths left behind.
 * - Orphans: instances of this stack with no worker, an ended one, or another worker's instance id.
 * - Boot deadline passed (plus grace): AGENT_NEVER_REGISTERED, the instance terminated.
 * - A READY or DRAINING worker whose heartbeats stopped: LOST, terminated, its jobs handed back.
 * - A worker past its maximum lifetime: drained (its jobs finish), never killed.
 * - PROVISIONING workers whose saga never started, and TERMINATING ones whose terminate call failed: again.
 */
export class Reaper {
  constructor(private readonly deps: ReaperDeps) {}

  async sweep(): Promise<ReapReport> {
    const report: ReapReport = { orphansTerminated: [], neverRegistered: [], lost: [], retired: [], sagasRestarted: [], terminationsRetried: [] };
    await this.reapOrphans(report);
    for (const name of this.deps.classNames) {
      const workerClass = this.deps.fleet.classes(name);
      await this.each(name, PROVISIONING, (w) => this.checkStarting(w, workerClass, report));
      await this.each(name, BOOTING, (w) => this.checkStarting(w, workerClass, report));
      await this.each(name, READY, (w) => this.checkServing(w, workerClass, report));
      await this.each(name, DRAINING, (w) => this.checkServing(w, workerClass, report));
      await this.each(name, TERMINATING, async (w) => {
        await this.deps.removal.terminateNow(w.workerId, w.termination?.reason ?? TerminationReason.FORCED, w.termination?.message ?? 'Termination retried by the reaper');
        report.terminationsRetried.push(w.workerId);
      });
    }
    return report;
  }

  private async reapOrphans(report: ReapReport): Promise<void> {
    const orphans: InstanceSummary[] = [];
    for (const instance of await this.deps.provider.listInstances()) {
      const worker = instance.workerId ? await this.deps.fleet.store.get(instance.workerId) : await this.deps.fleet.store.getByInstance(instance.instanceId);
      const claimed = worker && !isEndedWorker(worker.state) && (worker.instanceId === undefined || worker.instanceId === instance.instanceId);
      if (!claimed) orphans.push(instance);
    }
    if (orphans.length === 0) return;
    await this.deps.provider.terminate(orphans.map((o) => o.instanceId));
    report.orphansTerminated.push(...orphans.map((o) => o.instanceId));
    this.deps.log?.('orphaned instances terminated', { instanceIds: report.orphansTerminated });
  }

  private async checkStarting(worker: WorkerRecord, workerClass: ResolvedWorkerClass, report: ReapReport): Promise<void> {
    const age = this.ageSeconds(worker.createdAt);
    if (age > workerClass.bootDeadlineSeconds + REAPER_GRACE_SECONDS) {
      const failure = describeProvisioningFailure('AGENT_NEVER_REGISTERED', `No agent registered within ${workerClass.bootDeadlineSeconds} s of the request (found by the reaper)`);
      await this.deps.removal.terminateNow(worker.workerId, TerminationReason.INSTANCE_GONE, failure.message, { failure });
      report.neverRegistered.push(worker.workerId);
    } else if (worker.state === PROVISIONING && age > RESTART_SAGA_AFTER_SECONDS) {
      await this.deps.provisioning.start(worker);
      report.sagasRestarted.push(worker.workerId);
    }
  }

  private async checkServing(worker: WorkerRecord, workerClass: ResolvedWorkerClass, report: ReapReport): Promise<void> {
    const silentFor = this.ageSeconds(worker.lastHeartbeatAt ?? worker.readyAt ?? worker.updatedAt);
    if (silentFor > HEARTBEAT_MISSES_BEFORE_LOST * workerClass.heartbeatIntervalSeconds) {
      await this.deps.removal.terminateNow(worker.workerId, TerminationReason.LOST, `No heartbeat for ${Math.round(silentFor)} s; the worker is presumed lost`);
      report.lost.push(worker.workerId);
    } else if (worker.state === READY && this.ageSeconds(worker.launchedAt ?? worker.createdAt) > workerClass.maxLifetimeSeconds) {
      await this.deps.removal.drain(worker.workerId, TerminationReason.MAX_LIFETIME, false);
      report.retired.push(worker.workerId);
    }
  }

  private ageSeconds(since: string): number {
    return (this.deps.fleet.clock.now().getTime() - Date.parse(since)) / 1000;
  }

  /** Every worker of a class in a state; one worker's failure never stops the sweep. */
  private async each(workerClass: string, state: State, visit: (worker: WorkerRecord) => Promise<void>): Promise<void> {
    for await (const worker of this.deps.fleet.workers(workerClass, state)) {
      try {
        await visit(worker);
      } catch (error) {
        this.deps.log?.('reaping a worker failed; the next sweep tries again', { workerId: worker.workerId, state, error: (error as Error).message });
      }
    }
  }
}
