import * as z from 'zod';

/**
 * Worker classes, declared once: the CDK app builds a launch template, schedules and permissions per class, the
 * provisioning saga launches from these settings, the scaler and reaper read their bounds, and the local runtime
 * starts agent processes with the same slots and timings. A class with bad settings fails synth and local start
 * with one sentence (validateWorkerClasses).
 */

/** Where an AMI name points: a fixed image, an SSM parameter holding an image id, or the newest image matching a name pattern. */
export type AmiSource =
  | { imageId: string }
  | { ssmParameter: string }
  | { namePattern: string; owners: readonly string[] };

export const Market = { SPOT_WITH_ON_DEMAND_FALLBACK: 'spot-with-on-demand-fallback', ON_DEMAND: 'on-demand' } as const;
export type Market = (typeof Market)[keyof typeof Market];

export interface WorkerClassDefinition {
  name: string;
  /** Tried in order: the launch falls through to the next type when EC2 has no capacity for one. */
  instanceTypes: readonly string[];
  market: Market;
  /** Human-readable AMI names → where each image comes from; `defaultAmi` is used unless a launch names another. */
  amis: Readonly<Record<string, AmiSource>>;
  defaultAmi: string;
  /** Subnet ids to launch into, tried in order; absent: the subnets of the stack's own VPC. */
  subnetIds?: readonly string[];
  /** Absent: 0 in AWS (scale to zero) and 1 locally (the demo starts at once). */
  minWorkers?: number;
  maxWorkers: number;
  /** Jobs one worker runs at once (the agent's concurrency). */
  slotsPerWorker: number;
  /** An idle worker drains itself after this long without a job. @default 300 */
  idleTimeoutSeconds?: number;
  /** A worker lives at least this long before it may drain for idleness. @default 600 */
  minRunningSeconds?: number;
  /** The agent must register within this long of the launch, or the worker fails AGENT_NEVER_REGISTERED. @default 600 */
  bootDeadlineSeconds?: number;
  /** Workers older than this are drained and replaced (patches, leaks). @default 86400 */
  maxLifetimeSeconds?: number;
  /** The agent's heartbeat period; the reaper gives up on a worker after HEARTBEAT_MISSES_BEFORE_LOST of them. @default 30 */
  heartbeatIntervalSeconds?: number;
  /** Root volume size in GiB (gp3, encrypted). @default 20 */
  rootVolumeGiB?: number;
  /** How often the collector reads EC2, CloudWatch and agent metrics of the class's workers. @default 5 */
  metricsIntervalMinutes?: number;
  /** CPU and memory utilization (percent) above which a worker raises WorkerThresholdExceeded. @default 90 */
  cpuThresholdPercent?: number;
  memoryThresholdPercent?: number;
  /** Launch with EC2 detailed (1-minute) monitoring; an admin can switch it per worker. @default false */
  detailedMonitoring?: boolean;
}

/** Where the settings apply: defaults differ only in the minimum fleet. */
export type FleetRuntime = 'aws' | 'local';

export type ResolvedWorkerClass = Required<Omit<WorkerClassDefinition, 'subnetIds'>> & Pick<WorkerClassDefinition, 'subnetIds'>;

/** Heartbeats a READY worker may miss before the reaper treats it as lost. */
export const HEARTBEAT_MISSES_BEFORE_LOST = 4;

export const WORKER_CLASS_DEFAULTS = {
  idleTimeoutSeconds: 300,
  // EC2 bills per second after the first minute, but a cold start costs 1-4 minutes of boot: keeping a worker for
  // ten minutes means a burst that comes back soon finds it warm, and bounds boot overhead to a third of its life.
  minRunningSeconds: 600,
  bootDeadlineSeconds: 600,
  maxLifetimeSeconds: 86_400,
  heartbeatIntervalSeconds: 30,
  rootVolumeGiB: 20,
  metricsIntervalMinutes: 5,
  cpuThresholdPercent: 90,
  memoryThresholdPercent: 90,
  detailedMonitoring: false,
} as const;

/** The classes this platform runs. Jobs name one in `workerClass` (default `default`). */
export const WORKER_CLASS_DEFINITIONS = [
  {
    name: 'default',
    instanceTypes: ['m7g.large', 'm6g.large', 't4g.large'],
    market: Market.SPOT_WITH_ON_DEMAND_FALLBACK,
    amis: {
      // Amazon Linux 2023 for arm64, kept current by AWS behind a public SSM parameter.
      al2023: { ssmParameter: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64' },
      // A baked image (docs/fleet.md): the newest of ours whose name matches.
      'forgeflow-baked': { namePattern: 'forgeflow-worker-*', owners: ['self'] },
    },
    defaultAmi: 'al2023',
    maxWorkers: 10,
    slotsPerWorker: 4,
  },
] as const satisfies readonly WorkerClassDefinition[];

export type WorkerClass = (typeof WORKER_CLASS_DEFINITIONS)[number]['name'];
export const WORKER_CLASSES = WORKER_CLASS_DEFINITIONS.map((c) => c.name) as [WorkerClass, ...WorkerClass[]];

const CLASS_NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;
const seconds = (min: number, max: number) => z.number().int().min(min).max(max);

const AmiSourceSchema = z.union([
  z.strictObject({ imageId: z.string().regex(/^ami-[0-9a-f]{8,17}$/, 'an AMI id looks like ami-0123456789abcdef0') }),
  z.strictObject({ ssmParameter: z.string().regex(/^\/[\w./-]+$/, 'an SSM parameter name starts with /') }),
  z.strictObject({ namePattern: z.string().min(1).max(128), owners: z.array(z.string().min(1)).min(1) }),
]);

const ClassSchema = z
  .strictObject({
    name: z.string().regex(CLASS_NAME, 'is 1-32 lowercase letters, digits or dashes'),
    instanceTypes: z.array(z.string().regex(/^[a-z0-9-]+\.[a-z0-9-]+$/, 'looks like m7g.large')).min(1, 'needs at least one instance type'),
    market: z.enum([Market.SPOT_WITH_ON_DEMAND_FALLBACK, Market.ON_DEMAND]),
    amis: z.record(z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'AMI names are lowercase letters, digits, . _ -'), AmiSourceSchema),
    defaultAmi: z.string().min(1),
    subnetIds: z.array(z.string().regex(/^subnet-[0-9a-f]{8,17}$/, 'a subnet id looks like subnet-0123abcd')).min(1).optional(),
    minWorkers: z.number().int().min(0).max(1000).optional(),
    maxWorkers: z.number().int().min(1).max(1000),
    slotsPerWorker: z.number().int().min(1).max(256),
    idleTimeoutSeconds: seconds(1, 86_400).optional(),
    minRunningSeconds: seconds(0, 86_400).optional(),
    bootDeadlineSeconds: seconds(10, 3600).optional(),
    maxLifetimeSeconds: seconds(300, 30 * 86_400).optional(),
    heartbeatIntervalSeconds: seconds(1, 300).optional(),
    rootVolumeGiB: z.number().int().min(8).max(16_384).optional(),
    // EventBridge Scheduler's rate is whole minutes; basic monitoring has a datapoint every 5.
    metricsIntervalMinutes: z.number().int().min(1).max(1440).optional(),
    cpuThresholdPercent: z.number().min(1).max(100).optional(),
    memoryThresholdPercent: z.number().min(1).max(100).optional(),
    detailedMonitoring: z.boolean().optional(),
  })
  .superRefine((c, ctx) => {
    if (!(c.defaultAmi in c.amis)) ctx.addIssue({ code: 'custom', path: ['defaultAmi'], message: `"${c.defaultAmi}" is not one of its amis (${Object.keys(c.amis).join(', ')})` });
    if (c.minWorkers !== undefined && c.minWorkers > c.maxWorkers) ctx.addIssue({ code: 'custom', path: ['minWorkers'], message: `(${c.minWorkers}) is more than maxWorkers (${c.maxWorkers})` });
    const boot = c.bootDeadlineSeconds ?? WORKER_CLASS_DEFAULTS.bootDeadlineSeconds;
    const lifetime = c.maxLifetimeSeconds ?? WORKER_CLASS_DEFAULTS.maxLifetimeSeconds;
    if (lifetime <= boot) ctx.addIssue({ code: 'custom', path: ['maxLifetimeSeconds'], message: `(${lifetime}) must be longer than bootDeadlineSeconds (${boot})` });
  });

export class WorkerClassConfigError extends Error {
  override name = 'WorkerClassConfigError';
}

/** Checks every class; throws WorkerClassConfigError with one sentence naming the class, the setting and the fix. */
export function validateWorkerClasses(classes: readonly WorkerClassDefinition[]): void {
  if (classes.length === 0) throw new WorkerClassConfigError('At least one worker class must be declared.');
  const seen = new Set<string>();
  for (const definition of classes) {
    const result = ClassSchema.safeParse(definition);
    if (!result.success) {
      const issue = result.error.issues[0]!;
      const setting = issue.path.join('.') || 'settings';
      throw new WorkerClassConfigError(`Worker class "${definition.name}": ${setting} ${issue.message}.`);
    }
    if (seen.has(definition.name)) throw new WorkerClassConfigError(`Worker class "${definition.name}" is declared twice.`);
    seen.add(definition.name);
  }
}

/** A class with every default filled in for the runtime it runs on. */
export function resolveWorkerClass(definition: WorkerClassDefinition, runtime: FleetRuntime): ResolvedWorkerClass {
  return {
    ...WORKER_CLASS_DEFAULTS,
    ...definition,
    minWorkers: definition.minWorkers ?? (runtime === 'aws' ? 0 : 1),
  } as ResolvedWorkerClass;
}

export class UnknownWorkerClassNameError extends Error {
  override name = 'UnknownWorkerClassNameError';
}

/** The declared class of that name, resolved for the runtime; throws for a name no class has. */
export function workerClassNamed(name: string, runtime: FleetRuntime, classes: readonly WorkerClassDefinition[] = WORKER_CLASS_DEFINITIONS): ResolvedWorkerClass {
  const definition = classes.find((c) => c.name === name);
  if (!definition) throw new UnknownWorkerClassNameError(`No worker class is named "${name}" (known: ${classes.map((c) => c.name).join(', ')})`);
  return resolveWorkerClass(definition, runtime);
}
