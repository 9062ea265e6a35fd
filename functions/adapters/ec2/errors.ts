import { ProvisioningError, type ProvisioningFailureReason } from '../../core/fleet/provisioning-failures.ts';

/**
 * EC2 (and SSM) error codes → the provisioning failure catalog. The domain decides about fallback and backoff from
 * the catalog reason alone, so every code that changes that decision must be named here; anything unnamed is UNKNOWN
 * (retryable). Codes from https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html.
 */
const EXACT_CODES: Readonly<Record<string, ProvisioningFailureReason>> = {
  // No capacity for this type, market or AZ now: the fallback moves to the next candidate.
  InsufficientInstanceCapacity: 'INSUFFICIENT_CAPACITY',
  InsufficientHostCapacity: 'INSUFFICIENT_CAPACITY',
  InsufficientCapacityOnHost: 'INSUFFICIENT_CAPACITY',
  InsufficientReservedInstanceCapacity: 'INSUFFICIENT_CAPACITY',
  InsufficientReservedInstancesCapacity: 'INSUFFICIENT_CAPACITY',
  InsufficientAddressCapacity: 'INSUFFICIENT_CAPACITY',
  InsufficientFreeAddressesInSubnet: 'INSUFFICIENT_CAPACITY',
  InsufficientCapacity: 'INSUFFICIENT_CAPACITY',
  // The AZ has no EBS capacity for the root volume: another subnet (AZ) can still work.
  InsufficientVolumeCapacity: 'INSUFFICIENT_CAPACITY',
  // Spot has no capacity for the request as made (terraform-aws-github-runner and ParallelCluster fail over on it).
  UnfulfillableCapacity: 'INSUFFICIENT_CAPACITY',
  SpotMaxPriceTooLow: 'INSUFFICIENT_CAPACITY',
  // "The requested configuration is currently not supported": the type is not offered in that AZ.
  Unsupported: 'INSUFFICIENT_CAPACITY',

  RequestLimitExceeded: 'THROTTLED',
  Throttling: 'THROTTLED',
  ThrottlingException: 'THROTTLED',

  VcpuLimitExceeded: 'VCPU_QUOTA_EXCEEDED',
  InstanceLimitExceeded: 'VCPU_QUOTA_EXCEEDED',
  MaxSpotInstanceCountExceeded: 'VCPU_QUOTA_EXCEEDED',

  // SSM, for an AMI named by parameter.
  ParameterNotFound: 'AMI_NOT_FOUND',
  ParameterVersionNotFound: 'AMI_NOT_FOUND',

  UnauthorizedOperation: 'UNAUTHORIZED',
  AccessDenied: 'UNAUTHORIZED',
  AccessDeniedException: 'UNAUTHORIZED',
  // Credentials EC2 does not accept, and the account-level refusals a person must resolve.
  AuthFailure: 'UNAUTHORIZED',
  // A Marketplace AMI the account has not subscribed to, or a region not opted in.
  OptInRequired: 'UNAUTHORIZED',
  Blocked: 'UNAUTHORIZED',

  InvalidParameter: 'INVALID_CONFIGURATION',
  InvalidParameterValue: 'INVALID_CONFIGURATION',
  InvalidParameterCombination: 'INVALID_CONFIGURATION',
  MissingParameter: 'INVALID_CONFIGURATION',
  // The same client token with other parameters: a retry that changed its request.
  IdempotentParameterMismatch: 'INVALID_CONFIGURATION',
  // The same client token whose instance is already terminated: repeating the call can never launch.
  IdempotentInstanceTerminated: 'INVALID_CONFIGURATION',
  InvalidSubnet: 'INVALID_CONFIGURATION',
  InvalidBlockDeviceMapping: 'INVALID_CONFIGURATION',
  // E.g. an instance type the AMI does not support.
  UnsupportedOperation: 'INVALID_CONFIGURATION',
  EncryptedVolumesNotSupported: 'INVALID_CONFIGURATION',
  // No subnet given and the account has no default VPC.
  VPCIdNotSpecified: 'INVALID_CONFIGURATION',
  VPCResourceNotSpecified: 'INVALID_CONFIGURATION',
};

/** Code families: `InvalidAMIID.NotFound`, `.Malformed`, `.Unavailable` and the like. */
const CODE_PREFIXES: readonly (readonly [string, ProvisioningFailureReason])[] = [
  ['InvalidAMIID.', 'AMI_NOT_FOUND'],
  ['InvalidSubnetID.', 'INVALID_CONFIGURATION'],
  ['InvalidLaunchTemplateId.', 'INVALID_CONFIGURATION'],
  ['InvalidLaunchTemplateName.', 'INVALID_CONFIGURATION'],
  ['InvalidGroup.', 'INVALID_CONFIGURATION'],
  ['InvalidGroupId.', 'INVALID_CONFIGURATION'],
  ['InvalidSecurityGroupID.', 'INVALID_CONFIGURATION'],
  ['InvalidSecurityGroupId.', 'INVALID_CONFIGURATION'],
  ['InvalidKeyPair.', 'INVALID_CONFIGURATION'],
  ['InvalidIamInstanceProfileArn.', 'INVALID_CONFIGURATION'],
  ['InvalidPlacementGroup.', 'INVALID_CONFIGURATION'],
];

/** The service's error code: the SDK puts it in `name`; older shapes carry `Code` or `code`. */
export function ec2ErrorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { name, Code, code } = error as { name?: unknown; Code?: unknown; code?: unknown };
  for (const candidate of [Code, code, name]) {
    if (typeof candidate === 'string' && candidate !== '' && candidate !== 'Error') return candidate;
  }
  return undefined;
}

export function classifyEc2Error(error: unknown): ProvisioningFailureReason {
  if (error instanceof ProvisioningError) return error.reason;
  const code = ec2ErrorCode(error);
  if (code === undefined) return 'UNKNOWN';
  const exact = EXACT_CODES[code];
  if (exact) return exact;
  return CODE_PREFIXES.find(([prefix]) => code.startsWith(prefix))?.[1] ?? 'UNKNOWN';
}

/** A ProvisioningError naming the operation, the EC2 code and EC2's own message (it names the type, AZ or quota). */
export function toProvisioningError(operation: string, error: unknown): ProvisioningError {
  if (error instanceof ProvisioningError) return error;
  const code = ec2ErrorCode(error) ?? 'UnknownError';
  const message = error instanceof Error ? error.message : String(error);
  return new ProvisioningError(classifyEc2Error(error), `${operation} failed: ${code}: ${message}`, { cause: error });
}

/** Runs one SDK call, turning whatever it throws into a ProvisioningError. */
export async function ec2Call<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toProvisioningError(operation, error);
  }
}
