import { JOB_SUMMARY_FIELDS } from '../core/job.ts';

/**
 * The tables, declared once. The CDK app, the handlers' config and the local runtime all read these
 * definitions; nobody types a key or index name anywhere else.
 */
export interface KeyAttribute {
  name: string;
  type: 'S' | 'N';
}

/** What an index copies from each item: everything (the default), only the keys, or the keys plus some attributes. */
export type IndexProjection = { type: 'ALL' } | { type: 'KEYS_ONLY' } | { type: 'INCLUDE'; attributes: readonly string[] };

export interface IndexDefinition {
  indexName: string;
  partitionKey: KeyAttribute;
  sortKey?: KeyAttribute;
  /** Defaults to ALL. */
  projection?: IndexProjection;
}

export const projectionOf = (index: IndexDefinition): IndexProjection => index.projection ?? { type: 'ALL' };

export interface TableDefinition {
  /** Construct id in the CDK app. */
  id: string;
  /** Suffix of the physical name (`forgeflow-<name>` locally; CloudFormation names it in AWS). */
  name: string;
  /** The environment variable through which functions learn the table's physical name. */
  envVar: string;
  partitionKey: KeyAttribute;
  sortKey?: KeyAttribute;
  indexes: readonly IndexDefinition[];
  ttlAttribute?: string;
  stream?: 'NEW_IMAGE' | 'NEW_AND_OLD_IMAGES';
}

/** A list index projects the job summary, less its own keys (DynamoDB refuses a key among NonKeyAttributes). */
const summaryProjection = (keys: readonly string[]): IndexProjection => ({ type: 'INCLUDE', attributes: JOB_SUMMARY_FIELDS.filter((field) => !keys.includes(field)) });

/** A tenant's jobs, newest first (ScanIndexForward false). */
export const JOBS_BY_TENANT = {
  indexName: 'byTenant',
  partitionKey: { name: 'tenantId', type: 'S' },
  sortKey: { name: 'createdKey', type: 'S' },
  projection: summaryProjection(['tenantId', 'createdKey']),
} as const satisfies IndexDefinition;

/** A tenant's jobs in one status, newest first. */
export const JOBS_BY_TENANT_STATUS = {
  indexName: 'byTenantStatus',
  partitionKey: { name: 'tenantStatus', type: 'S' },
  sortKey: { name: 'createdKey', type: 'S' },
  projection: summaryProjection(['tenantStatus', 'createdKey']),
} as const satisfies IndexDefinition;

/**
 * Jobs a worker holds (DISPATCHED or RUNNING, partitions `held#N`), and queued runs whose saga has not reached its
 * first step (`queued#N`), by the time after which they are overdue: what the reconciler's sweep reads. Sparse (no
 * other job carries the keys) and spread over a few partitions so claims and submits do not all write one key; keys
 * only, because the sweep reads each job consistently before it acts.
 */
export const JOBS_BY_OVERDUE = {
  indexName: 'byOverdue',
  partitionKey: { name: 'heldShard', type: 'S' },
  sortKey: { name: 'overdueAt', type: 'S' },
  projection: { type: 'KEYS_ONLY' },
} as const satisfies IndexDefinition;

/** How many partitions JOBS_BY_OVERDUE spreads held jobs (and, apart, queued ones) over; the sweep queries each. */
export const OVERDUE_JOB_SHARDS = 4;

export const JOBS_TABLE = {
  id: 'JobsTable',
  name: 'jobs',
  envVar: 'JOBS_TABLE_NAME',
  partitionKey: { name: 'jobId', type: 'S' },
  indexes: [JOBS_BY_TENANT, JOBS_BY_TENANT_STATUS, JOBS_BY_OVERDUE],
  // The relay reads it for the events that ride on a job write of their own (JOB_EVENT_ATTRIBUTE, decision 0022): the
  // old image tells a new event from one a later write merely kept.
  stream: 'NEW_AND_OLD_IMAGES',
} as const satisfies TableDefinition;

/**
 * The transactional outbox, which is also every job's and worker's history: each state change commits its event
 * here in the same transaction, keyed by the event's subject (job or worker id) and its ULID, so a Query reads a
 * subject's events in the order they happened (`GET /v1/jobs/{id}/events`). The stream feeds the relay. Named
 * `events` since it became the history, so an older local data folder gets a new table rather than a mismatched one.
 */
export const OUTBOX_TABLE = {
  id: 'OutboxTable',
  name: 'events',
  envVar: 'OUTBOX_TABLE_NAME',
  partitionKey: { name: 'subject', type: 'S' },
  sortKey: { name: 'eventId', type: 'S' },
  indexes: [],
  ttlAttribute: 'expiresAt',
  stream: 'NEW_IMAGE',
} as const satisfies TableDefinition;

export const COUNTERS_TABLE = {
  id: 'CountersTable',
  name: 'counters',
  envVar: 'COUNTERS_TABLE_NAME',
  partitionKey: { name: 'scope', type: 'S' },
  sortKey: { name: 'shard', type: 'N' },
  indexes: [],
} as const satisfies TableDefinition;

/**
 * Consumers claim (consumer, eventId) here; claims expire once a redelivery can no longer happen. The key is the
 * pair itself (`<consumer>#<eventId>`): claims are only ever read by key, and a consumer partition with a time-ordered
 * sort key would put all of one consumer's writes on one hot partition. Named `inbox-claims` since that key change,
 * so an older local data folder gets a new table rather than a mismatched one.
 */
export const INBOX_TABLE = {
  id: 'InboxTable',
  name: 'inbox-claims',
  envVar: 'INBOX_TABLE_NAME',
  partitionKey: { name: 'claimKey', type: 'S' },
  indexes: [],
  ttlAttribute: 'expiresAt',
} as const satisfies TableDefinition;

/** Every webhook delivery attempt, for users debugging their receivers. */
export const WEBHOOK_DELIVERIES_TABLE = {
  id: 'WebhookDeliveriesTable',
  name: 'webhook-deliveries',
  envVar: 'WEBHOOK_DELIVERIES_TABLE_NAME',
  partitionKey: { name: 'jobId', type: 'S' },
  sortKey: { name: 'deliveryKey', type: 'S' },
  indexes: [],
  ttlAttribute: 'expiresAt',
} as const satisfies TableDefinition;

/** Per-tenant settings, among them the webhook signing secret (encrypted at rest with the data key). */
export const TENANTS_TABLE = {
  id: 'TenantsTable',
  name: 'tenants',
  envVar: 'TENANTS_TABLE_NAME',
  partitionKey: { name: 'tenantId', type: 'S' },
  indexes: [],
} as const satisfies TableDefinition;

/** Every worker of the fleet, newest first; one constant partition is fine for a fleet of thousands (see 0006). */
export const WORKERS_BY_FLEET = {
  indexName: 'byFleet',
  partitionKey: { name: 'fleet', type: 'S' },
  sortKey: { name: 'createdKey', type: 'S' },
} as const satisfies IndexDefinition;

/** The workers of one class in one state: what the reaper sweeps and the API filters by. */
export const WORKERS_BY_CLASS_STATE = {
  indexName: 'byClassState',
  partitionKey: { name: 'classState', type: 'S' },
  sortKey: { name: 'createdKey', type: 'S' },
} as const satisfies IndexDefinition;

/** The worker an EC2 instance runs (sparse: set once the launch returned an instance id). */
export const WORKERS_BY_INSTANCE = {
  indexName: 'byInstance',
  partitionKey: { name: 'instanceId', type: 'S' },
} as const satisfies IndexDefinition;

/** The fleet: one item per worker (instance), its state guarded like a job's status. Ended workers expire. */
export const WORKERS_TABLE = {
  id: 'WorkersTable',
  name: 'workers',
  envVar: 'WORKERS_TABLE_NAME',
  partitionKey: { name: 'workerId', type: 'S' },
  indexes: [WORKERS_BY_FLEET, WORKERS_BY_CLASS_STATE, WORKERS_BY_INSTANCE],
  ttlAttribute: 'expiresAt',
} as const satisfies TableDefinition;

/**
 * Job runs waiting for one of their tenant's slots, in the order they are to be admitted: priority, then the job's
 * creation time (waitKey). An item holds the task token its saga waits on; admission answers it and removes it.
 */
export const WAITING_JOBS_TABLE = {
  id: 'WaitingJobsTable',
  name: 'waiting-jobs',
  envVar: 'WAITING_JOBS_TABLE_NAME',
  partitionKey: { name: 'tenantId', type: 'S' },
  sortKey: { name: 'waitKey', type: 'S' },
  indexes: [],
} as const satisfies TableDefinition;

export const TABLES: readonly TableDefinition[] = [
  JOBS_TABLE,
  OUTBOX_TABLE,
  COUNTERS_TABLE,
  INBOX_TABLE,
  WEBHOOK_DELIVERIES_TABLE,
  TENANTS_TABLE,
  WORKERS_TABLE,
  WAITING_JOBS_TABLE,
];

/** How long inbox claims and history rows live. Redeliveries stop long before (SQS retention is 4 days). */
export const INBOX_RETENTION_SECONDS = 14 * 24 * 3600;
/** How long a job's or worker's events (the outbox rows) and its webhook delivery attempts stay readable. */
export const HISTORY_RETENTION_SECONDS = 90 * 24 * 3600;

/** How long a TERMINATED or FAILED worker stays readable (its history lives as long as job histories). */
export const ENDED_WORKER_RETENTION_SECONDS = 30 * 24 * 3600;

/** Counter writes spread over this many items per scope, so concurrent transactions rarely touch the same item. */
export const COUNTER_SHARDS = 8;

export const localTableName = (table: TableDefinition) => `forgeflow-${table.name}`;
