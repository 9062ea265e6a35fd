import { resolveWorkerClass, WORKER_CLASS_DEFINITIONS, type FleetRuntime, type WorkerClassDefinition } from '../../declarations/worker-classes.ts';
import type { Clock, RateLimiter } from '../ports.ts';
import { AgentControl } from './agent-control.ts';
import { UnknownClassError } from './errors.ts';
import { FleetContext, type ClassLookup } from './fleet-context.ts';
import type { JobReleaser, ProvisioningRunner, QueueDepth, WorkerProvider, WorkerStore } from './ports.ts';
import { ProvisioningService } from './provisioning.ts';
import { Reaper } from './reaper.ts';
import { WorkerRemoval } from './removal.ts';
import { Scaler } from './scaler.ts';
import { TerminationReason, type WorkerRecord } from './worker.ts';
import { WorkerService } from './worker-service.ts';
import { WorkerState } from './worker-state.ts';
import { WorkerMetricsCollector, type MetricsCollectorDeps } from './metrics-collector.ts';
import type { MonitoringControl } from './metrics-ports.ts';

export interface FleetPorts {
  store: WorkerStore;
  provider: WorkerProvider;
  runner: ProvisioningRunner;
  clock: Clock;
  runtime: FleetRuntime;
  region: string;
  queueDepth?: QueueDepth;
  limiter?: RateLimiter;
  releaser?: JobReleaser;
  defaultSubnetIds?: readonly string[];
  classes?: readonly WorkerClassDefinition[];
  log?: (message: string, details: Record<string, unknown>) => void;
  sleep?: (ms: number) => Promise<void>;
  /** The metric sources (collector, refresh endpoint); `monitoring` switches EC2 detailed monitoring. */
  metrics?: Omit<MetricsCollectorDeps, 'fleet'> & { monitoring?: MonitoringControl };
}

export interface Fleet {
  context: FleetContext;
  provisioning: ProvisioningService;
  agents: AgentControl;
  removal: WorkerRemoval;
  reaper: Reaper;
  workers: WorkerService;
  /** Absent without a QueueDepth port (functions that never scale). */
  scaler?: Scaler;
  classNames: readonly string[];
  /** Absent without metric sources. */
  collector?: WorkerMetricsCollector;
  /** An EC2 spot interruption warning: the worker gives its jobs back at once and leaves. */
  spotInterrupted(instanceId: string): Promise<WorkerRecord | undefined>;
}

/** Declared classes by name, resolved for the runtime; an unknown name is UnknownClassError (422 at the API). */
export function classLookup(runtime: FleetRuntime, classes: readonly WorkerClassDefinition[] = WORKER_CLASS_DEFINITIONS): ClassLookup {
  const resolved = new Map(classes.map((c) => [c.name, resolveWorkerClass(c, runtime)]));
  return (name) => {
    const found = resolved.get(name);
    if (!found) throw new UnknownClassError(name, [...resolved.keys()]);
    return found;
  };
}

/** The fleet's use cases wired over its ports: the one composition every runtime (Lambda, local, tests) uses. */
export function createFleet(ports: FleetPorts): Fleet {
  const classes = ports.classes ?? WORKER_CLASS_DEFINITIONS;
  const context = new FleetContext(ports.store, ports.clock, classLookup(ports.runtime, classes));
  const classNames = classes.map((c) => c.name);
  const provisioning = new ProvisioningService({
    fleet: context,
    provider: ports.provider,
    runner: ports.runner,
    region: ports.region,
    ...(ports.limiter ? { limiter: ports.limiter } : {}),
    ...(ports.sleep ? { sleep: ports.sleep } : {}),
    ...(ports.defaultSubnetIds ? { defaultSubnetIds: ports.defaultSubnetIds } : {}),
    ...(ports.log ? { log: ports.log } : {}),
  });
  const removal = new WorkerRemoval({ fleet: context, provider: ports.provider, ...(ports.releaser ? { releaser: ports.releaser } : {}), ...(ports.log ? { log: ports.log } : {}) });
  const log = ports.log ? { log: ports.log } : {};
  const collector = ports.metrics ? new WorkerMetricsCollector({ ...ports.metrics, fleet: context }) : undefined;
  const monitoring = ports.metrics?.monitoring;
  return {
    context,
    provisioning,
    removal,
    classNames,
    agents: new AgentControl({ fleet: context, provider: ports.provider, runner: ports.runner }),
    reaper: new Reaper({ fleet: context, provider: ports.provider, provisioning, removal, classNames, ...log }),
    workers: new WorkerService({ fleet: context, provisioning, removal, ...(collector ? { collector } : {}), ...(monitoring ? { monitoring } : {}) }),
    ...(collector ? { collector } : {}),
    ...(ports.queueDepth ? { scaler: new Scaler({ fleet: context, provisioning, queueDepth: ports.queueDepth, ...log }) } : {}),
    async spotInterrupted(instanceId) {
      const worker = await ports.store.getByInstance(instanceId);
      if (!worker) return undefined;
      if (worker.state === WorkerState.READY || worker.state === WorkerState.DRAINING) return removal.drain(worker.workerId, TerminationReason.SPOT_INTERRUPTED, true);
      return removal.terminateNow(worker.workerId, TerminationReason.SPOT_INTERRUPTED, 'EC2 reclaimed the spot instance before it served');
    },
  };
}
