import { DynamoWorkerStore } from '../../functions/adapters/dynamodb/worker-store.ts';
import { createFleet, type Fleet, type FleetPorts } from '../../functions/core/fleet/fleet.ts';
import type { InstanceSummary, LaunchedInstance, LaunchRequest, ProvisioningRunner, QueueDepth, ResolvedImage, WorkerProvider } from '../../functions/core/fleet/ports.ts';
import { ProvisioningError, type ProvisioningFailureReason } from '../../functions/core/fleet/provisioning-failures.ts';
import type { Clock } from '../../functions/core/ports.ts';
import type { WorkerClassDefinition } from '../../functions/declarations/worker-classes.ts';
import { createTestTables } from '../support/dynamodb.ts';

/** A class small enough to reason about in tests: two types, spot with fallback, min 0, max 3. */
export const TEST_CLASS: WorkerClassDefinition = {
  name: 'default',
  instanceTypes: ['m7g.large', 'm6g.large'],
  market: 'spot-with-on-demand-fallback',
  amis: { al2023: { imageId: 'ami-0123456789abcdef0' } },
  defaultAmi: 'al2023',
  minWorkers: 0,
  maxWorkers: 3,
  slotsPerWorker: 4,
  bootDeadlineSeconds: 600,
  heartbeatIntervalSeconds: 30,
};

/** An EC2 stand-in: records every call, answers launches from a script of errors, keeps instances in memory. */
export class FakeProvider implements WorkerProvider {
  readonly launches: LaunchRequest[] = [];
  readonly terminated: string[] = [];
  readonly instances = new Map<string, InstanceSummary>();
  /** Consumed one per launch call: a reason makes that call fail with it. */
  readonly script: (ProvisioningFailureReason | 'ok')[] = [];
  private next = 1;

  async resolveImage(_c: unknown, amiName: string): Promise<ResolvedImage> {
    if (amiName === 'missing') throw new ProvisioningError('AMI_NOT_FOUND', 'No such image');
    return { amiName, amiId: 'ami-0123456789abcdef0', rootDeviceName: '/dev/xvda' };
  }

  async launch(request: LaunchRequest): Promise<LaunchedInstance> {
    this.launches.push(request);
    const step = this.script.shift() ?? 'ok';
    if (step !== 'ok') throw new ProvisioningError(step, `${step} for ${request.candidate.instanceType}/${request.candidate.market}`);
    const instanceId = `i-${(this.next++).toString(16).padStart(17, '0')}`;
    this.instances.set(instanceId, { instanceId, workerId: request.workerId, state: 'running', launchedAt: new Date().toISOString() });
    return { instanceId, instanceType: request.candidate.instanceType, availabilityZone: 'us-east-1a', market: request.candidate.market };
  }

  async terminate(instanceIds: readonly string[]): Promise<void> {
    for (const id of instanceIds) {
      this.terminated.push(id);
      const instance = this.instances.get(id);
      if (instance) instance.state = 'terminated';
    }
  }

  async listInstances(): Promise<InstanceSummary[]> {
    return [...this.instances.values()].filter((i) => i.state !== 'terminated');
  }

  async describe(instanceId: string): Promise<InstanceSummary | undefined> {
    return this.instances.get(instanceId);
  }
}

/** Records starts and registration answers; tests route them where they need (an engine, or nowhere). */
export class RecordingRunner implements ProvisioningRunner {
  readonly started: string[] = [];
  readonly answered: { taskToken: string; output: unknown }[] = [];
  onStart: (workerId: string) => Promise<void> = async () => undefined;
  onAnswer: (taskToken: string, output: { workerId: string; agentVersion: string }) => Promise<void> = async () => undefined;

  async start(workerId: string): Promise<void> {
    this.started.push(workerId);
    await this.onStart(workerId);
  }

  async registrationSucceeded(taskToken: string, output: { workerId: string; agentVersion: string }): Promise<void> {
    this.answered.push({ taskToken, output });
    await this.onAnswer(taskToken, output);
  }
}

export class FixedDepth implements QueueDepth {
  constructor(public waiting = 0, public inFlight = 0) {}
  async depth() {
    return { waiting: this.waiting, inFlight: this.inFlight };
  }
}

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  constructor(private current = new Date('2026-11-30T10:00:00.000Z')) {}
  now() {
    return new Date(this.current);
  }
  advance(seconds: number) {
    this.current = new Date(this.current.getTime() + seconds * 1000);
  }
}

export interface FleetFixture {
  fleet: Fleet;
  provider: FakeProvider;
  runner: RecordingRunner;
  depth: FixedDepth;
  clock: ManualClock;
  store: DynamoWorkerStore;
}

/** A fleet over DynamoDB Local with fresh tables and fake EC2, Step Functions and queues. */
export async function fleetFixture(overrides: Partial<FleetPorts> & { classes?: readonly WorkerClassDefinition[] } = {}): Promise<FleetFixture> {
  const { documentClient, tableNames } = await createTestTables();
  const store = new DynamoWorkerStore(documentClient, { workers: tableNames.workers, outbox: tableNames.outbox, counters: tableNames.counters });
  const provider = new FakeProvider();
  const runner = new RecordingRunner();
  const depth = new FixedDepth();
  const clock = new ManualClock();
  const fleet = createFleet({ store, provider, runner, clock, runtime: 'aws', region: 'us-east-1', queueDepth: depth, classes: [TEST_CLASS], sleep: async () => undefined, ...overrides });
  return { fleet, provider, runner, depth, clock, store };
}

export const identityOf = (worker: { workerId: string; instanceId?: string }) => ({ workerId: worker.workerId, instanceId: worker.instanceId!, agentVersion: '1.0.0' });
