import type { ResolvedWorkerClass } from '../../declarations/worker-classes.ts';
import type { EventEnvelope } from '../events.ts';
import type { WorkerRecord } from './worker.ts';
import type { WorkerState } from './worker-state.ts';

/**
 * The fleet's ports. The domain (scaler, provisioning, reaper, agent control) talks to these; the EC2 and the local
 * process adapters implement WorkerProvider, DynamoDB implements WorkerStore, Step Functions (or the local engine)
 * implements ProvisioningRunner.
 */

/**
 * One atomic worker state change: the worker as it will be, what it must still be, its event, and the move of the
 * class's count of active workers, with an optional bound the count must respect for the write to apply.
 */
export interface WorkerChange {
  worker: WorkerRecord;
  /** Absent for a new worker (the write requires that no worker with this id exists). */
  expected?: { state: WorkerState; version: number };
  event: EventEnvelope;
  fleet: FleetMove;
}

export interface FleetMove {
  class: string;
  delta: -1 | 0 | 1;
  /** The write applies only if the class has exactly this many active workers (scaler: serialises launches). */
  expectActive?: number;
  /** The write applies only if the class has fewer than this many active workers (explicit launches). */
  belowMax?: number;
  /** The write applies only if the class has more than this many active workers (a drain keeps the minimum). */
  aboveMin?: number;
  /** How a provisioning ended, kept on the class so the scaler backs off a class whose launches keep failing. */
  provisioning?: { outcome: 'failed' | 'ready'; at: string };
}

/** The class as the scaler sees it: its active count and how its recent launches went. */
export interface FleetStatus {
  active: number;
  /** Provisionings that failed in a row since the last one that reached READY. */
  consecutiveFailures: number;
  lastFailureAt?: string;
}

export interface ListWorkersQuery {
  class?: string;
  state?: WorkerState;
  limit: number;
  cursor?: string;
}

export interface WorkerPage {
  items: WorkerRecord[];
  nextCursor?: string;
}

/** What a heartbeat records; it moves no state and emits no event. */
export interface HeartbeatFields {
  lastHeartbeatAt: string;
  runningJobs: number;
  runningJobIds: string[];
  agentVersion: string;
  /** The agent's own figures, when it sends them (agents before this platform version do not). */
  agentReport?: WorkerRecord['agentReport'];
}

export interface WorkerStore {
  get(workerId: string): Promise<WorkerRecord | undefined>;
  getByInstance(instanceId: string): Promise<WorkerRecord | undefined>;
  /** Throws WorkerConflictError (the worker changed, or exists already) or FleetBoundError (a bound refused it). */
  commit(change: WorkerChange): Promise<void>;
  /** Platform-only fields of a worker (no state move, no event), conditioned on its state and version. */
  update(worker: WorkerRecord, expected: { state: WorkerState; version: number }): Promise<void>;
  /** Records a heartbeat of a READY or DRAINING worker; returns the worker as stored, or undefined if it is neither. */
  heartbeat(workerId: string, fields: HeartbeatFields): Promise<WorkerRecord | undefined>;
  list(query: ListWorkersQuery): Promise<WorkerPage>;
  /** The number of active (PROVISIONING, BOOTING, READY) workers of a class: one item, O(1). */
  activeCount(workerClass: string): Promise<number>;
  /** The active count with the class's recent provisioning outcomes, from the same item. */
  fleetStatus(workerClass: string): Promise<FleetStatus>;
}

/** An AMI resolved from its human-readable name. */
export interface ResolvedImage {
  amiName: string;
  amiId: string;
  /** From the image itself: a root mapping under another device name would add a second volume instead. */
  rootDeviceName: string;
}

export type InstanceMarket = 'spot' | 'on-demand';

/** One way to launch: the fallback walks these in order. */
export interface LaunchCandidate {
  instanceType: string;
  market: InstanceMarket;
  subnetId?: string;
}

export interface LaunchRequest {
  workerId: string;
  workerClass: ResolvedWorkerClass;
  image: ResolvedImage;
  candidate: LaunchCandidate;
  /** Idempotency: the same token launches at most one instance, however often the call is repeated. */
  clientToken: string;
}

export interface LaunchedInstance {
  instanceId: string;
  instanceType: string;
  availabilityZone: string;
  market: InstanceMarket;
}

export interface InstanceSummary {
  instanceId: string;
  /** From the instance's `forgeflow:worker-id` tag; absent on an instance that lost or never had it. */
  workerId?: string;
  state: 'pending' | 'running' | 'stopping' | 'stopped' | 'shutting-down' | 'terminated';
  launchedAt: string;
}

/**
 * Where workers run: EC2 instances, or local agent processes. Every call is one attempt; errors are
 * ProvisioningErrors carrying their catalog reason, so the domain decides about fallback and backoff.
 */
export interface WorkerProvider {
  resolveImage(workerClass: ResolvedWorkerClass, amiName: string): Promise<ResolvedImage>;
  launch(request: LaunchRequest): Promise<LaunchedInstance>;
  /** Idempotent: terminating an instance that is gone or going succeeds. */
  terminate(instanceIds: readonly string[]): Promise<void>;
  /** Every instance of this stack that is not terminated. */
  listInstances(): Promise<InstanceSummary[]>;
  describe(instanceId: string): Promise<InstanceSummary | undefined>;
}

/** Starts provisioning sagas and answers the agent-registration task. */
export interface ProvisioningRunner {
  /** Idempotent by execution name (the worker id). */
  start(workerId: string): Promise<void>;
  registrationSucceeded(taskToken: string, output: { workerId: string; agentVersion: string }): Promise<void>;
}

/** Jobs waiting for and held by workers of a class: the scaler's demand signal. */
export interface QueueDepth {
  depth(workerClass: string): Promise<{ waiting: number; inFlight: number }>;
}

/** Fails the tasks of jobs a removed worker held, so their sagas retry them elsewhere now (WORKER_LOST). */
export interface JobReleaser {
  releaseJobs(workerId: string, jobIds: readonly string[]): Promise<void>;
}
