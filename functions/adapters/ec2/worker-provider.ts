import type { _InstanceType, DescribeInstancesCommandInput, EC2Client, Instance, RunInstancesCommandInput, Tag } from '@aws-sdk/client-ec2';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { InstanceSummary, LaunchedInstance, LaunchRequest, ResolvedImage, WorkerProvider } from '../../core/fleet/ports.ts';
import { ProvisioningError } from '../../core/fleet/provisioning-failures.ts';
import type { ResolvedWorkerClass } from '../../declarations/worker-classes.ts';
import { ec2Call, ec2ErrorCode, toProvisioningError } from './errors.ts';
import { DEFAULT_IMAGE_CACHE_TTL_MS, ImageResolver } from './images.ts';
import { asLazyEc2, asLazySsm, lazyEc2, lazySsm, type LazyEc2, type LazySsm } from './lazy-clients.ts';

export { classifyEc2Error } from './errors.ts';

/** The tags that tie an instance (and its volume) to its stack, class and worker: the reaper finds orphans by them. */
export const TAG_STACK = 'forgeflow:stack';
export const TAG_CLASS = 'forgeflow:class';
export const TAG_WORKER_ID = 'forgeflow:worker-id';

/** The states of an instance that still exists (or costs money) and therefore belongs in the reaper's view. */
const LIVE_STATES = ['pending', 'running', 'stopping', 'stopped', 'shutting-down'];
const TERMINATE_CHUNK = 1000;
const DESCRIBE_PAGE_SIZE = 1000;

export interface Ec2WorkerProviderOptions {
  stackName: string;
  /** Each class has its launch template (its instance profile differs); RunInstances is allowed with these only. */
  launchTemplateIds: Readonly<Record<string, string>>;
  /** The instance's user data as plain text; the provider base64-encodes it. */
  userData: (workerId: string, workerClass: ResolvedWorkerClass) => string;
  /** How long a resolved AMI is reused. @default 10 minutes */
  imageCacheTtlMs?: number;
  now?: () => number;
}

/** Clients made already (tests, benches) or on first use (createEc2Clients, see lazy-clients.ts). */
export interface Ec2Clients {
  ec2: EC2Client | LazyEc2;
  ssm: SSMClient | LazySsm;
}

interface LazyEc2Clients {
  ec2: LazyEc2;
  ssm: LazySsm;
}

/**
 * Builds the clients the provider expects. `maxAttempts: 1`: every call is one attempt, because throttling is
 * handled by our token bucket and by the provisioning state machine's backoff; SDK retries on top would multiply
 * the calls of every throttled Lambda exactly when EC2 asks us to slow down.
 */
export function createEc2Clients(region?: string): Ec2Clients {
  return { ec2: lazyEc2({ region, maxAttempts: 1 }), ssm: lazySsm({ region, maxAttempts: 1 }) };
}

/**
 * WorkerProvider on EC2: one RunInstances per worker from the stack's launch template. The EC2 client must be built
 * with `maxAttempts: 1` (see createEc2Clients). Every error leaves as a ProvisioningError carrying its catalog reason.
 */
export class Ec2WorkerProvider implements WorkerProvider {
  private readonly images: ImageResolver;
  private readonly now: () => number;
  private readonly clients: LazyEc2Clients;

  constructor(
    clients: Ec2Clients,
    private readonly options: Ec2WorkerProviderOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.clients = { ec2: asLazyEc2(clients.ec2), ssm: asLazySsm(clients.ssm) };
    this.images = new ImageResolver(this.clients, options.imageCacheTtlMs ?? DEFAULT_IMAGE_CACHE_TTL_MS, this.now);
  }

  resolveImage(workerClass: ResolvedWorkerClass, amiName: string): Promise<ResolvedImage> {
    return this.images.resolve(workerClass, amiName);
  }

  async launch(request: LaunchRequest): Promise<LaunchedInstance> {
    const result = await ec2Call(`RunInstances (${request.candidate.instanceType}, ${request.candidate.market})`, () =>
      this.clients.ec2.use((ec2, sdk) => ec2.send(new sdk.RunInstancesCommand(this.runInstancesInput(request)))),
    );
    const instance = result.Instances?.[0];
    if (!instance?.InstanceId) throw new ProvisioningError('UNKNOWN', `RunInstances returned no instance for worker ${request.workerId}.`);
    return {
      instanceId: instance.InstanceId,
      instanceType: instance.InstanceType ?? request.candidate.instanceType,
      availabilityZone: instance.Placement?.AvailabilityZone ?? '',
      // What EC2 says wins: a launch template could make an on-demand request spot.
      market: instance.InstanceLifecycle === 'spot' ? 'spot' : request.candidate.market,
    };
  }

  private launchTemplateOf(workerClass: string): string {
    const id = this.options.launchTemplateIds[workerClass];
    if (!id) throw new ProvisioningError('INVALID_CONFIGURATION', `No launch template is configured for worker class "${workerClass}"`);
    return id;
  }

  private runInstancesInput({ workerId, workerClass, image, candidate, clientToken }: LaunchRequest): RunInstancesCommandInput {
    const tags: Tag[] = [
      { Key: TAG_CLASS, Value: workerClass.name },
      { Key: TAG_WORKER_ID, Value: workerId },
      { Key: TAG_STACK, Value: this.options.stackName },
    ];
    return {
      LaunchTemplate: { LaunchTemplateId: this.launchTemplateOf(workerClass.name), Version: '$Latest' },
      ImageId: image.amiId,
      // The SDK types instance types as a closed union; classes are validated by pattern, and EC2 rejects unknown ones.
      InstanceType: candidate.instanceType as _InstanceType,
      MinCount: 1,
      MaxCount: 1,
      ...(candidate.subnetId ? { SubnetId: candidate.subnetId } : {}),
      ClientToken: clientToken,
      // Basic monitoring (5-minute datapoints) is free; 1-minute costs per instance (DETAILED_MONITORING_COST).
      Monitoring: { Enabled: workerClass.detailedMonitoring },
      UserData: Buffer.from(this.options.userData(workerId, workerClass), 'utf8').toString('base64'),
      ...(candidate.market === 'spot'
        ? { InstanceMarketOptions: { MarketType: 'spot', SpotOptions: { SpotInstanceType: 'one-time', InstanceInterruptionBehavior: 'terminate' } } }
        : {}),
      // On the image's own root device name: under any other name this would add a second volume, not size the root.
      BlockDeviceMappings: [
        { DeviceName: image.rootDeviceName, Ebs: { VolumeSize: workerClass.rootVolumeGiB, VolumeType: 'gp3', Encrypted: true, DeleteOnTermination: true } },
      ],
      TagSpecifications: [
        { ResourceType: 'instance', Tags: tags },
        { ResourceType: 'volume', Tags: tags },
      ],
    };
  }

  async terminate(instanceIds: readonly string[]): Promise<void> {
    for (let start = 0; start < instanceIds.length; start += TERMINATE_CHUNK) {
      await this.terminateChunk(instanceIds.slice(start, start + TERMINATE_CHUNK));
    }
  }

  /**
   * One call fails whole when any id is unknown; the ids it names are gone, which is what we wanted, so the call is
   * repeated without them. Each repeat drops at least one id, so this ends.
   */
  private async terminateChunk(ids: string[]): Promise<void> {
    let remaining = ids;
    while (remaining.length > 0) {
      try {
        await this.clients.ec2.use((ec2, sdk) => ec2.send(new sdk.TerminateInstancesCommand({ InstanceIds: remaining })));
        return;
      } catch (error) {
        const missing = ec2ErrorCode(error) === 'InvalidInstanceID.NotFound' ? instanceIdsIn(error) : new Set<string>();
        const rest = remaining.filter((id) => !missing.has(id));
        if (rest.length === remaining.length) throw toProvisioningError('TerminateInstances', error);
        remaining = rest;
      }
    }
  }

  async listInstances(): Promise<InstanceSummary[]> {
    const filters = [
      { Name: `tag:${TAG_STACK}`, Values: [this.options.stackName] },
      { Name: 'instance-state-name', Values: LIVE_STATES },
    ];
    const summaries: InstanceSummary[] = [];
    let NextToken: string | undefined;
    do {
      const page = await this.describeInstances({ Filters: filters, MaxResults: DESCRIBE_PAGE_SIZE, NextToken });
      summaries.push(...page.instances.map((i) => this.summary(i)));
      NextToken = page.nextToken;
    } while (NextToken);
    return summaries;
  }

  async describe(instanceId: string): Promise<InstanceSummary | undefined> {
    try {
      const { instances } = await this.describeInstances({ InstanceIds: [instanceId] });
      const instance = instances.find((i) => i.InstanceId === instanceId);
      return instance ? this.summary(instance) : undefined;
    } catch (error) {
      if (error instanceof ProvisioningError && ec2ErrorCode(error.cause) === 'InvalidInstanceID.NotFound') return undefined;
      throw error;
    }
  }

  private async describeInstances(input: DescribeInstancesCommandInput): Promise<{ instances: Instance[]; nextToken?: string }> {
    const page = await ec2Call('DescribeInstances', () => this.clients.ec2.use((ec2, sdk) => ec2.send(new sdk.DescribeInstancesCommand(input))));
    return { instances: (page.Reservations ?? []).flatMap((r) => r.Instances ?? []), nextToken: page.NextToken };
  }

  private summary(instance: Instance): InstanceSummary {
    const workerId = instance.Tags?.find((t) => t.Key === TAG_WORKER_ID)?.Value;
    return {
      instanceId: instance.InstanceId ?? '',
      ...(workerId ? { workerId } : {}),
      state: (instance.State?.Name ?? 'pending') as InstanceSummary['state'],
      // EC2 always reports LaunchTime; were it missing, "now" makes the instance look young rather than overdue.
      launchedAt: (instance.LaunchTime ?? new Date(this.now())).toISOString(),
    };
  }
}

/** EC2 names the unknown ids in its message: "The instance IDs 'i-0abc..., i-0def...' do not exist". */
function instanceIdsIn(error: unknown): Set<string> {
  const message = error instanceof Error ? error.message : '';
  return new Set(message.match(/\bi-[0-9a-z]+/g) ?? []);
}
