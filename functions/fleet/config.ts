import * as z from 'zod';

/**
 * What the CDK app tells the fleet functions about the deployment, in one variable each, read through one schema.
 * The launch settings are JSON because they are per class; a class without an entry cannot launch.
 */
export const FLEET_ENV = {
  stackName: 'FLEET_STACK_NAME',
  launch: 'FLEET_LAUNCH_CONFIG',
  /** `local`: workers are processes, so EC2 and CloudWatch do not apply and /proc stands in (the local runtime). */
  metricSources: 'FLEET_METRIC_SOURCES',
} as const;

/** What the EC2 and CloudWatch blocks of a local worker say, rather than faked figures. */
export const LOCAL_ABSENT_SOURCES = 'The local runtime has no EC2 or CloudWatch: its workers are processes (see the agent block)';

export const FleetLaunchConfigSchema = z.object({
  /** Worker class → its launch template id. */
  launchTemplateIds: z.record(z.string(), z.string().regex(/^lt-[0-9a-f]+$/)),
  /** The stack's VPC subnets, for classes that declare none. */
  subnetIds: z.array(z.string()).default([]),
  /** The agent bundle (a CDK asset). */
  agentBundle: z.object({ bucket: z.string().min(3), key: z.string().min(1) }),
  /** Worker class → the agent's environment (queue URLs, the worker-control function, the region). */
  agentEnv: z.record(z.string(), z.record(z.string(), z.string())),
});
export type FleetLaunchConfig = z.infer<typeof FleetLaunchConfigSchema>;
