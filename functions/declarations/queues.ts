/**
 * The queues, declared once: names, visibility, redrive. The CDK app creates them, the local runtime creates the
 * same queues in fauxqs, and consumers learn their URLs through the declared environment variables.
 */
/** What one ReceiveMessage returns and one SQS batch call (delete, change visibility) takes, at most: an AWS limit. */
export const SQS_BATCH_MAX = 10;

export interface QueueDefinition {
  id: string;
  /** Physical name locally; CloudFormation names them in AWS. */
  name: string;
  envVar: string;
  visibilityTimeoutSeconds: number;
  /** Receives before a message moves to the DLQ. */
  maxReceiveCount: number;
  retentionSeconds: number;
  dlq: { id: string; name: string; envVar: string; retentionSeconds: number };
  /** Consumer batch size (Lambda event source mapping and local poller alike). */
  batchSize: number;
  /** Gather a batch for up to this long before invoking (MaximumBatchingWindowInSeconds). @default 0 */
  maxBatchingWindowSeconds?: number;
}

const DAY = 24 * 3600;

export const WEBHOOKS_QUEUE = {
  id: 'WebhooksQueue',
  name: 'forgeflow-webhooks',
  envVar: 'WEBHOOKS_QUEUE_URL',
  // Long enough for one delivery with its in-process retries (see functions/webhooks).
  visibilityTimeoutSeconds: 120,
  maxReceiveCount: 8,
  retentionSeconds: 4 * DAY,
  dlq: { id: 'WebhooksDlq', name: 'forgeflow-webhooks-dlq', envVar: 'WEBHOOKS_DLQ_URL', retentionSeconds: 14 * DAY },
  batchSize: 10,
} as const satisfies QueueDefinition;

/**
 * JobQueued events whose saga the API could not start (and the starter's own throttled starts, delayed), turned
 * into one saga execution per job run. No rule feeds it: the API starts runs itself (decision 0011).
 */
export const SAGA_STARTER_QUEUE = {
  id: 'SagaStarterQueue',
  name: 'forgeflow-saga-starter',
  envVar: 'SAGA_STARTER_QUEUE_URL',
  visibilityTimeoutSeconds: 30,
  maxReceiveCount: 5,
  retentionSeconds: 4 * DAY,
  dlq: { id: 'SagaStarterDlq', name: 'forgeflow-saga-starter-dlq', envVar: 'SAGA_STARTER_DLQ_URL', retentionSeconds: 14 * DAY },
  batchSize: 10,
} as const satisfies QueueDefinition;

/** Cancellations, turned into StopExecution (waiting jobs) or a CANCELLED task failure (running jobs). */
export const JOB_CONTROL_QUEUE = {
  id: 'JobControlQueue',
  name: 'forgeflow-job-control',
  envVar: 'JOB_CONTROL_QUEUE_URL',
  visibilityTimeoutSeconds: 30,
  maxReceiveCount: 5,
  retentionSeconds: 4 * DAY,
  dlq: { id: 'JobControlDlq', name: 'forgeflow-job-control-dlq', envVar: 'JOB_CONTROL_DLQ_URL', retentionSeconds: 14 * DAY },
  batchSize: 10,
} as const satisfies QueueDefinition;

/** JobDispatched events nudge the scaler of the job's worker class, so a burst is met before the next scheduled run. */
export const SCALER_QUEUE = {
  id: 'ScalerQueue',
  name: 'forgeflow-scaler',
  envVar: 'SCALER_QUEUE_URL',
  visibilityTimeoutSeconds: 60,
  maxReceiveCount: 3,
  // A nudge is only worth something now: the schedule reconciles every minute anyway.
  retentionSeconds: 3600,
  dlq: { id: 'ScalerDlq', name: 'forgeflow-scaler-dlq', envVar: 'SCALER_DLQ_URL', retentionSeconds: 14 * DAY },
  // Every dispatched job nudges; one reconcile per 2 s of nudges sees the same depth as one per nudge, for a
  // fraction of the invocations and GetQueueAttributes calls. 2 s is nothing next to an EC2 boot. Up to 100 a batch
  // (over 10 needs the window), so a burst of 50 jobs a second is still one reconcile per window, not five.
  batchSize: 100,
  maxBatchingWindowSeconds: 2,
} as const satisfies QueueDefinition;

/** Slots freed (a held job ended or went back to wait), turned into admissions of the tenant's waiting job runs. */
export const ADMISSION_QUEUE = {
  id: 'AdmissionQueue',
  name: 'forgeflow-admission',
  envVar: 'ADMISSION_QUEUE_URL',
  visibilityTimeoutSeconds: 30,
  maxReceiveCount: 5,
  retentionSeconds: 4 * DAY,
  dlq: { id: 'AdmissionDlq', name: 'forgeflow-admission-dlq', envVar: 'ADMISSION_DLQ_URL', retentionSeconds: 14 * DAY },
  batchSize: 10,
} as const satisfies QueueDefinition;

export const CONSUMER_QUEUES = [WEBHOOKS_QUEUE, SAGA_STARTER_QUEUE, JOB_CONTROL_QUEUE, SCALER_QUEUE, ADMISSION_QUEUE] as const satisfies readonly QueueDefinition[];

/** Where the outbox stream's event source mapping sends records it gave up on (after retries and bisecting). */
export const RELAY_FAILURE_QUEUE = {
  id: 'RelayFailureDlq',
  name: 'forgeflow-relay-failures',
  envVar: 'RELAY_FAILURE_QUEUE_URL',
  retentionSeconds: 14 * DAY,
} as const;
