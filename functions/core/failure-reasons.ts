/**
 * The catalog of failure reasons (docs/architecture.md, "Failures are data"). Each reason says whose problem it is,
 * whether retrying by default makes sense, and what a person can do about it.
 */
export const FailureCategory = { USER: 'user', INFRASTRUCTURE: 'infrastructure' } as const;
export type FailureCategory = (typeof FailureCategory)[keyof typeof FailureCategory];

export interface FailureReasonInfo {
  category: FailureCategory;
  retryable: boolean;
  description: string;
  suggestedActions: readonly string[];
}

const user = FailureCategory.USER;
const infra = FailureCategory.INFRASTRUCTURE;

export const FAILURE_REASONS = {
  COMMAND_NOT_FOUND: {
    category: user,
    retryable: false,
    description: 'The program to run was not found: by the shell, or on PATH for a command array (exit code 127).',
    suggestedActions: [
      'Check the spelling of the command and that it is installed in the worker image.',
      'Use an absolute path, or make sure the directory is on the worker PATH.',
    ],
  },
  PERMISSION_DENIED: {
    category: user,
    retryable: false,
    description: 'The command exists but could not be executed (exit code 126).',
    suggestedActions: [
      'Make the file executable (chmod +x) or run it through its interpreter, e.g. "sh script.sh".',
      'Check that the worker user may read and execute the file.',
    ],
  },
  FILE_NOT_FOUND: {
    category: user,
    retryable: false,
    description: 'A file or working directory the job needs does not exist.',
    suggestedActions: ['Check the paths in the command and its arguments.', 'Ship the file in the worker image or download it in the command.'],
  },
  PROCESS_SPAWN_FAILED: {
    category: infra,
    retryable: true,
    description: 'The worker could not start a process (out of memory, process limit or file descriptors).',
    suggestedActions: ['Retry the job; if it repeats, lower the agent concurrency or use a larger instance type.'],
  },
  EXECUTION_TIMEOUT: {
    category: user,
    retryable: true,
    description: 'The job ran longer than its timeoutSeconds and was stopped.',
    suggestedActions: ['Raise timeoutSeconds if the job legitimately needs longer.', 'Look at the output tail to see where it was slow.'],
  },
  SIGNAL_RECEIVED: {
    category: infra,
    retryable: true,
    description: 'The process was ended by a signal it did not send itself (e.g. SIGKILL from the OOM killer).',
    suggestedActions: ['Check the memory the job uses against the instance type.', 'Retry the job.'],
  },
  NON_ZERO_EXIT_CODE: {
    category: user,
    retryable: true,
    description: 'The command exited with a non-zero status.',
    suggestedActions: ['Read the output tail for the error the command printed.', 'Run the command locally with the same arguments and environment.'],
  },
  WORKER_LOST: {
    category: infra,
    retryable: true,
    description: 'The worker stopped reporting liveness while it held the job.',
    suggestedActions: ['The job is retried automatically.', 'If it repeats, check the worker instances for crashes or spot interruptions.'],
  },
  PROVISIONING_FAILED: {
    category: infra,
    retryable: true,
    description: 'No worker could be started for the job (capacity, quota or AMI problem).',
    suggestedActions: ['Check the EC2 quotas and the AMI name of the worker class.', 'Try another instance type.'],
  },
  INFRASTRUCTURE_ERROR: {
    category: infra,
    retryable: true,
    description: 'A platform component failed while handling the job.',
    suggestedActions: ['The job is retried automatically.', 'If it repeats, look at the platform alarms and logs.'],
  },
  VALIDATION_ERROR: {
    category: user,
    retryable: false,
    description: 'The job definition was rejected.',
    suggestedActions: ['Fix the fields named in the error details and submit again.'],
  },
  CONFIGURATION_ERROR: {
    category: user,
    retryable: false,
    description: 'The job refers to configuration that does not exist (e.g. an unknown worker class).',
    suggestedActions: ['Check the workerClass and the platform configuration.'],
  },
  SECRET_INJECTION_ERROR: {
    category: user,
    retryable: false,
    description: 'A secret the job references could not be read.',
    suggestedActions: ['Check that the secret exists and that the worker role may read it.'],
  },
  IO_ERROR: {
    category: infra,
    retryable: true,
    description: 'Reading or writing the job output or files failed.',
    suggestedActions: ['Check free disk space on the worker.', 'Retry the job.'],
  },
  CANCELLED: {
    category: user,
    retryable: false,
    description: 'The job was cancelled on request.',
    suggestedActions: ['Submit or retry the job again if it is still needed.'],
  },
  UNKNOWN: {
    category: infra,
    retryable: true,
    description: 'The job failed for a reason the platform could not classify.',
    suggestedActions: ['Read the message and the output tail.', 'Report the job id to the platform team if it repeats.'],
  },
} as const satisfies Record<string, FailureReasonInfo>;

export type FailureReason = keyof typeof FAILURE_REASONS;
export const FAILURE_REASON_NAMES = Object.keys(FAILURE_REASONS) as [FailureReason, ...FailureReason[]];

export interface JobFailure {
  reason: FailureReason;
  message: string;
  category: FailureCategory;
  retryable: boolean;
  suggestedActions: string[];
}

/** Builds the `failure` object a job carries, from the catalog. `retryable` may be overridden by the caller. */
export function describeFailure(reason: FailureReason, message: string, retryable?: boolean): JobFailure {
  const info: FailureReasonInfo = FAILURE_REASONS[reason];
  return {
    reason,
    message,
    category: info.category,
    retryable: retryable ?? info.retryable,
    suggestedActions: [...info.suggestedActions],
  };
}
