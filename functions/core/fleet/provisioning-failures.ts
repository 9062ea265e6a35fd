import * as z from 'zod';

/**
 * Why a worker could not be provisioned, as data (like the job failure catalog): each reason says whether a new
 * attempt could help and what a person can do. EC2 error codes map onto these in the EC2 adapter only.
 */
export interface ProvisioningReasonInfo {
  retryable: boolean;
  description: string;
  suggestedActions: readonly string[];
}

export const PROVISIONING_FAILURES = {
  INSUFFICIENT_CAPACITY: {
    retryable: true,
    description: 'EC2 had no capacity for any instance type, subnet and market the class allows.',
    suggestedActions: ['Add instance types or subnets in other Availability Zones to the worker class.', 'The scaler tries again on its next run.'],
  },
  VCPU_QUOTA_EXCEEDED: {
    retryable: false,
    description: 'The account reached its vCPU quota for the instance family and market (VcpuLimitExceeded).',
    suggestedActions: ['Request a higher quota in Service Quotas (Running On-Demand / All Standard Spot Instance Requests).', 'Lower maxWorkers of the class.'],
  },
  AMI_NOT_FOUND: {
    retryable: false,
    description: 'The AMI the class names could not be found or used.',
    suggestedActions: ['Check the AMI name, its SSM parameter or name pattern, and the owners in the worker class.', 'Check the image exists in this region.'],
  },
  THROTTLED: {
    retryable: true,
    description: 'EC2 kept refusing calls for the account rate limit (RequestLimitExceeded).',
    suggestedActions: ['The launch backs off by itself; if it repeats, look for other tools calling EC2 in this account and region.'],
  },
  AGENT_NEVER_REGISTERED: {
    retryable: true,
    description: 'The instance started but its agent did not register before the boot deadline.',
    suggestedActions: ['Read the instance console output (EC2 GetConsoleOutput) for bootstrap errors.', 'Bake an AMI with the agent installed (docs/fleet.md) or raise bootDeadlineSeconds.'],
  },
  SPOT_INTERRUPTED: {
    retryable: true,
    description: 'EC2 reclaimed the spot instance.',
    suggestedActions: ['The jobs it held run elsewhere; use on-demand for the class if interruptions are frequent.'],
  },
  INVALID_CONFIGURATION: {
    retryable: false,
    description: 'EC2 rejected the launch parameters (instance type, subnet, security group or launch template).',
    suggestedActions: ['Check the worker class settings against the message.', 'Run npm run synth to validate the classes.'],
  },
  UNAUTHORIZED: {
    retryable: false,
    description: 'The platform role may not launch or tag the instance (UnauthorizedOperation).',
    suggestedActions: ['Check the provisioning role policy and any service control policy of the account.'],
  },
  UNKNOWN: {
    retryable: true,
    description: 'Provisioning failed for a reason the platform could not classify.',
    suggestedActions: ['Read the message; report the worker id if it repeats.'],
  },
} as const satisfies Record<string, ProvisioningReasonInfo>;

export type ProvisioningFailureReason = keyof typeof PROVISIONING_FAILURES;
export const PROVISIONING_FAILURE_REASONS = Object.keys(PROVISIONING_FAILURES) as [ProvisioningFailureReason, ...ProvisioningFailureReason[]];

export const WorkerFailureSchema = z
  .object({
    reason: z.enum(PROVISIONING_FAILURE_REASONS),
    message: z.string(),
    retryable: z.boolean(),
    suggestedActions: z.array(z.string()),
  })
  .meta({ id: 'WorkerFailure', description: 'Why a worker could not be provisioned, whether a retry can help, and what to do' });
export type WorkerFailure = z.infer<typeof WorkerFailureSchema>;

export function describeProvisioningFailure(reason: ProvisioningFailureReason, message: string): WorkerFailure {
  const info = PROVISIONING_FAILURES[reason];
  return { reason, message, retryable: info.retryable, suggestedActions: [...info.suggestedActions] };
}

/**
 * A provisioning error raised where it happens (the EC2 adapter, the launch step), carrying its catalog reason.
 * Its `name` is what the state machine's Retry and Catch match, so it is a fixed string, never the class name
 * (bundlers rename classes).
 */
export class ProvisioningError extends Error {
  readonly reason: ProvisioningFailureReason;
  constructor(reason: ProvisioningFailureReason, message: string, options?: ErrorOptions) {
    super(message, options);
    this.reason = reason;
    this.name = PROVISIONING_ERROR_NAMES[reason];
  }

  get retryable(): boolean {
    return PROVISIONING_FAILURES[this.reason].retryable;
  }
}

/** The error names the provisioning ASL sees: Throttled is retried with backoff; the rest are caught and compensated. */
export const PROVISIONING_ERROR_NAMES: Record<ProvisioningFailureReason, string> = {
  INSUFFICIENT_CAPACITY: 'InsufficientCapacity',
  VCPU_QUOTA_EXCEEDED: 'VcpuQuotaExceeded',
  AMI_NOT_FOUND: 'AmiNotFound',
  THROTTLED: 'Throttled',
  AGENT_NEVER_REGISTERED: 'AgentNeverRegistered',
  SPOT_INTERRUPTED: 'SpotInterrupted',
  INVALID_CONFIGURATION: 'InvalidConfiguration',
  UNAUTHORIZED: 'Unauthorized',
  UNKNOWN: 'ProvisioningFailed',
};

/** The catalog reason of an error name as the state machine reports it (`Error` of a caught error). */
export function reasonOfErrorName(name: string): ProvisioningFailureReason {
  if (name === 'States.Timeout' || name === 'States.HeartbeatTimeout') return 'AGENT_NEVER_REGISTERED';
  const found = (Object.entries(PROVISIONING_ERROR_NAMES) as [ProvisioningFailureReason, string][]).find(([, n]) => n === name);
  return found ? found[0] : 'UNKNOWN';
}
