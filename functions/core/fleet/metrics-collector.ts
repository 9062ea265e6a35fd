import { HEARTBEAT_MISSES_BEFORE_LOST } from '../../declarations/worker-classes.ts';
import { THRESHOLD_HYSTERESIS_POINTS } from '../../declarations/metrics.ts';
import type { MetricsRecorder } from '../platform-metrics.ts';
import type { FleetContext } from './fleet-context.ts';
import type { InstanceHealth, InstanceHealthSource, InstanceMetricsSource, InstanceUtilization, ProcessStatsSource, SourceResult, WorkerMetricsStore } from './metrics-ports.ts';
import { composeEvents, isUnchangedNotApplicable } from './metrics-events.ts';
import { evaluateThresholds } from './thresholds.ts';
import type { WorkerRecord } from './worker.ts';
import { MetricSource, thresholdInputs, type AgentMetrics, type CloudWatchMetrics, type Ec2Metrics, type WorkerMetrics } from './worker-metrics.ts';
import { WORKER_STATES, WorkerState, isEndedWorker } from './worker-state.ts';

export interface MetricsCollectorDeps {
  fleet: FleetContext;
  store: WorkerMetricsStore;
  /** Absent on the local runtime: those blocks say `not-applicable` with `absentSourceReason`. */
  ec2?: InstanceHealthSource;
  cloudWatch?: InstanceMetricsSource;
  processStats?: ProcessStatsSource;
  absentSourceReason: string;
  recordMetric: MetricsRecorder;
  /** Worker writes in flight at once. */
  concurrency?: number;
}

export interface CollectionReport {
  workers: number;
  written: number;
  sourceErrors: Record<MetricSource, number>;
  /** Workers whose write failed (throttled, for one): the next run writes them. */
  failed: number;
  /** READY workers whose status checks pass and whose agent reports. */
  healthy: number;
  alertsRaised: number;
  alertsCleared: number;
}

/** What one source answered for each instance of a collection; `undefined` when the source is absent here. */
interface SourceAnswers {
  ec2?: Map<string, SourceResult<InstanceHealth>>;
  cloudWatch?: Map<string, SourceResult<InstanceUtilization>>;
}

const COLLECTED_STATES = [WorkerState.READY, WorkerState.DRAINING] as const;
const BOOTING_STATES: readonly string[] = [WorkerState.PROVISIONING, WorkerState.BOOTING];

/**
 * Collects each worker's metrics from three sources kept apart (EC2 status checks, CloudWatch CPU and memory, the
 * agent's heartbeat figures), checks its CPU and memory thresholds, and writes the blocks and their events per
 * worker. Sources are read for all workers at once (the adapters batch within the APIs' limits), and a source that
 * fails fails only its own blocks. Workers are collected from READY until they end.
 */
export class WorkerMetricsCollector {
  constructor(private readonly deps: MetricsCollectorDeps) {}

  /** The scheduled run for one class: every READY or DRAINING worker, then the fleet-size figures. */
  async collectClass(workerClass: string, correlationId: string): Promise<CollectionReport> {
    const { fleet } = this.deps;
    const workers: WorkerRecord[] = [];
    for (const state of COLLECTED_STATES) for await (const worker of fleet.workers(workerClass, state)) workers.push(worker);
    const report = await this.collect(workers, correlationId);
    await this.recordFleetSize(workerClass, workers);
    this.deps.recordMetric('WorkersHealthy', report.healthy, { WorkerClass: workerClass });
    return report;
  }

  /** One worker, now (the refresh endpoint): all three sources, whatever its state; returns it as stored after. */
  async collectWorker(worker: WorkerRecord, correlationId: string): Promise<WorkerRecord> {
    if (!isEndedWorker(worker.state)) await this.collect([worker], correlationId);
    return (await this.deps.fleet.store.get(worker.workerId)) ?? worker;
  }

  private async collect(workers: readonly WorkerRecord[], correlationId: string): Promise<CollectionReport> {
    const report: CollectionReport = { workers: workers.length, written: 0, sourceErrors: { ec2: 0, cloudWatch: 0, agent: 0 }, failed: 0, healthy: 0, alertsRaised: 0, alertsCleared: 0 };
    if (workers.length === 0) return report;
    const answers = await this.readSources(workers);
    await forEachLimited(workers, this.deps.concurrency ?? 16, async (worker) => {
      const metrics = await this.blocksOf(worker, answers);
      if (worker.state === WorkerState.READY && isHealthy(metrics)) report.healthy += 1;
      for (const source of Object.keys(metrics) as MetricSource[]) {
        if (metrics[source]?.status === 'error') {
          report.sourceErrors[source] += 1;
          this.deps.recordMetric('MetricsCollectionErrors', 1, { WorkerClass: worker.class, Source: source });
        }
      }
      const changed = this.withoutUnchanged(worker, metrics);
      const { alerts, changes } = evaluateThresholds(worker.alerts ?? {}, thresholdInputs(metrics), this.thresholds(worker), this.deps.fleet.now());
      const events = composeEvents(worker, changed, changes, this.deps.fleet.eventContext(correlationId));
      if (events.length === 0) return;
      let written: boolean;
      try {
        written = await this.deps.store.recordMetrics(worker.workerId, { metrics: changed, ...(changes.length ? { alerts } : {}), events });
      } catch {
        report.failed += 1;
        return;
      }
      if (!written) return;
      report.written += 1;
      report.alertsRaised += changes.filter((c) => c.kind === 'exceeded').length;
      report.alertsCleared += changes.filter((c) => c.kind === 'cleared').length;
    });
    return report;
  }

  /** One call per source for all the workers; a source that throws is an error for each of them. */
  private async readSources(workers: readonly WorkerRecord[]): Promise<SourceAnswers> {
    const withInstance = workers.filter((w) => w.instanceId !== undefined);
    const ready = withInstance.filter((w) => !BOOTING_STATES.includes(w.state));
    const [ec2, cloudWatch] = await Promise.all([
      this.deps.ec2 && withInstance.length ? settle(withInstance, () => this.deps.ec2!.describe(withInstance.map((w) => w.instanceId!))) : undefined,
      this.deps.cloudWatch && ready.length
        ? settle(ready, () => this.deps.cloudWatch!.read(ready.map((w) => ({ instanceId: w.instanceId!, periodSeconds: w.detailedMonitoring ? 60 : 300 })), this.deps.fleet.clock.now()))
        : undefined,
    ]);
    return { ...(ec2 ? { ec2 } : {}), ...(cloudWatch ? { cloudWatch } : {}) };
  }

  private async blocksOf(worker: WorkerRecord, answers: SourceAnswers): Promise<WorkerMetrics> {
    const now = this.deps.fleet.now();
    return { ec2: this.ec2Block(worker, answers, now), cloudWatch: this.cloudWatchBlock(worker, answers, now), agent: await this.agentBlock(worker, now) };
  }

  private ec2Block(worker: WorkerRecord, answers: SourceAnswers, checkedAt: string): Ec2Metrics {
    if (!this.deps.ec2) return { status: 'not-applicable', message: this.deps.absentSourceReason, checkedAt };
    const answer = worker.instanceId ? answers.ec2?.get(worker.instanceId) : undefined;
    if (!answer) return { status: 'not-applicable', message: 'The worker has no instance yet', checkedAt };
    return answer.ok ? { status: 'ok', ...answer.value, checkedAt } : { status: 'error', error: answer.error, checkedAt };
  }

  private cloudWatchBlock(worker: WorkerRecord, answers: SourceAnswers, collectedAt: string): CloudWatchMetrics {
    if (!this.deps.cloudWatch) return { status: 'not-applicable', message: this.deps.absentSourceReason, collectedAt };
    if (BOOTING_STATES.includes(worker.state) || !worker.instanceId) {
      return { status: 'not-applicable', message: 'The worker is still booting: CloudWatch has no datapoints for it yet', collectedAt };
    }
    const answer = answers.cloudWatch?.get(worker.instanceId);
    if (!answer) return { status: 'error', error: { code: 'NoAnswer', message: 'CloudWatch returned nothing for this instance' }, collectedAt };
    const detailedMonitoring = worker.detailedMonitoring ?? false;
    if (!answer.ok) return { status: 'error', error: answer.error, collectedAt };
    return { status: 'ok', ...answer.value, detailedMonitoring, periodSeconds: detailedMonitoring ? 60 : 300, collectedAt };
  }

  /**
   * The agent's figures are what its last heartbeat carried. No heartbeat for several intervals: a silent agent.
   * Heartbeats without figures: an agent of an earlier release, alive but saying nothing about itself.
   */
  private async agentBlock(worker: WorkerRecord, now: string): Promise<AgentMetrics> {
    if (BOOTING_STATES.includes(worker.state)) return { status: 'not-applicable', message: 'The agent has not registered yet', reportedAt: now };
    const report = worker.agentReport;
    const lastHeard = report?.reportedAt ?? worker.lastHeartbeatAt ?? worker.readyAt ?? worker.updatedAt;
    const silentAfterMs = HEARTBEAT_MISSES_BEFORE_LOST * this.deps.fleet.classes(worker.class).heartbeatIntervalSeconds * 1000;
    if (Date.parse(now) - Date.parse(lastHeard) > silentAfterMs) {
      return { status: 'error', error: { code: AGENT_SILENT, message: `No heartbeat since ${lastHeard}` }, reportedAt: lastHeard };
    }
    if (!report) return { status: 'error', error: { code: AGENT_NOT_REPORTING, message: 'The agent heartbeats but sends no figures (a release older than this platform)' }, reportedAt: lastHeard };
    const process = worker.instanceId ? await this.deps.processStats?.read(worker.instanceId) : undefined;
    return { status: 'ok', ...report.stats, agentVersion: report.agentVersion, reportedAt: report.reportedAt, ...(process ? { process } : {}) };
  }

  /** A source that still cannot answer for the same reason is not written again (no event every few minutes). */
  private withoutUnchanged(worker: WorkerRecord, metrics: WorkerMetrics): WorkerMetrics {
    const changed: WorkerMetrics = {};
    for (const source of Object.keys(metrics) as MetricSource[]) {
      if (!isUnchangedNotApplicable(worker.metrics?.[source], metrics[source])) Object.assign(changed, { [source]: metrics[source] });
    }
    return changed;
  }

  private thresholds(worker: WorkerRecord) {
    const workerClass = this.deps.fleet.classes(worker.class);
    return { limits: { cpu: workerClass.cpuThresholdPercent, memory: workerClass.memoryThresholdPercent }, hysteresis: THRESHOLD_HYSTERESIS_POINTS };
  }

  /** Workers per state, for the dashboard and the healthy-workers alarm. */
  private async recordFleetSize(workerClass: string, collected: readonly WorkerRecord[]): Promise<void> {
    for (const state of WORKER_STATES.filter((s) => !isEndedWorker(s))) {
      const count = (COLLECTED_STATES as readonly string[]).includes(state)
        ? collected.filter((w) => w.state === state).length
        : await this.deps.store.countByState(workerClass, state);
      this.deps.recordMetric('FleetSize', count, { WorkerClass: workerClass, State: state });
    }
  }
}

const AGENT_SILENT = 'AGENT_SILENT';
const AGENT_NOT_REPORTING = 'AGENT_NOT_REPORTING';

/** Status checks pass (or do not exist here) and the agent heartbeats (an older agent without figures included). */
export function isHealthy(metrics: WorkerMetrics): boolean {
  const { ec2, agent } = metrics;
  const ec2Ok = ec2?.status === 'not-applicable' || (ec2?.status === 'ok' && ec2.systemStatus === 'ok' && ec2.instanceStatus === 'ok');
  const agentAlive = agent?.status === 'ok' || (agent?.status === 'error' && agent.error.code === AGENT_NOT_REPORTING);
  return ec2Ok && agentAlive;
}

async function settle<T>(workers: readonly WorkerRecord[], read: () => Promise<Map<string, SourceResult<T>>>): Promise<Map<string, SourceResult<T>>> {
  try {
    return await read();
  } catch (error) {
    const failure: SourceResult<T> = { ok: false, error: { code: (error as Error).name || 'Error', message: (error as Error).message } };
    return new Map(workers.map((w) => [w.instanceId!, failure]));
  }
}

async function forEachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  });
  await Promise.all(lanes);
}
