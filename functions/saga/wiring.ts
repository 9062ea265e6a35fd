import * as z from 'zod';
import { createDocumentClient } from '../adapters/dynamodb/client.ts';
import { DynamoJobStore } from '../adapters/dynamodb/job-store.ts';
import { DynamoWaitingJobs } from '../adapters/dynamodb/waiting-jobs.ts';
import { AdmissionService, type SlotWaits } from '../core/admission.ts';
import { systemClock } from '../core/ports.ts';
import { DEFAULT_DISPATCH_GRACE_SECONDS, DEFAULT_TENANT_SLOT_LIMIT, SagaService } from '../core/saga.ts';
import { COUNTERS_TABLE, JOBS_TABLE, OUTBOX_TABLE, WAITING_JOBS_TABLE } from '../declarations/tables.ts';
import { DISPATCH_QUEUES } from '../declarations/workers.ts';
import { ConfigurationError, readConfig, readTableNames } from '../shared/config.ts';

/** Saga settings the CDK app sets on the ClaimJob function (absent: the defaults). */
export const SAGA_CONFIG_ENV = {
  tenantSlotLimit: 'TENANT_SLOT_LIMIT',
  dispatchGraceSeconds: 'DISPATCH_GRACE_SECONDS',
} as const;

export const SAGA_TABLES = [JOBS_TABLE, OUTBOX_TABLE, COUNTERS_TABLE];

/** ParkJob's tables: the job (read), the tenant's slot item (checked) and the waiting runs (written). */
export const ADMISSION_TABLES = [JOBS_TABLE, COUNTERS_TABLE, WAITING_JOBS_TABLE];

/** The tenant slot limit ClaimJob enforces and ParkJob waits on: one variable, read the same way by both. */
function readSlotLimit(env: NodeJS.ProcessEnv): number {
  const settings = readConfig({ [SAGA_CONFIG_ENV.tenantSlotLimit]: z.coerce.number().int().positive().default(DEFAULT_TENANT_SLOT_LIMIT) }, env) as Record<string, number>;
  return settings[SAGA_CONFIG_ENV.tenantSlotLimit]!;
}

/** The AdmissionService of the ParkJob Lambda (parking only; the admission consumer wakes). */
export function admissionServiceFromEnv(env: NodeJS.ProcessEnv = process.env, waits?: SlotWaits): AdmissionService {
  const tableName = readTableNames(ADMISSION_TABLES, env);
  const client = createDocumentClient();
  const store = new DynamoJobStore(client, { jobs: tableName(JOBS_TABLE), outbox: '', counters: tableName(COUNTERS_TABLE) });
  const slotLimit = readSlotLimit(env);
  return new AdmissionService({
    store,
    waiting: new DynamoWaitingJobs(client, { waiting: tableName(WAITING_JOBS_TABLE), counters: tableName(COUNTERS_TABLE) }),
    tenantSlotLimit: () => slotLimit,
    ...(waits ? { waits } : {}),
  });
}

/**
 * Builds the SagaService a saga Lambda uses, reading its configuration once, at cold start (fail fast). Only the
 * ClaimJob function dispatches, so only it reads the dispatch queue URLs and the slot settings.
 */
export function sagaServiceFromEnv(options: { dispatch: boolean }, env: NodeJS.ProcessEnv = process.env): SagaService {
  const tableName = readTableNames(SAGA_TABLES, env);
  const store = new DynamoJobStore(createDocumentClient(), {
    jobs: tableName(JOBS_TABLE),
    outbox: tableName(OUTBOX_TABLE),
    counters: tableName(COUNTERS_TABLE),
  });
  if (!options.dispatch) return new SagaService({ store, clock: systemClock });

  const urls = readConfig(Object.fromEntries(DISPATCH_QUEUES.map((queue) => [queue.envVar, z.url()])), env) as Record<string, string>;
  const settings = readConfig({ [SAGA_CONFIG_ENV.dispatchGraceSeconds]: z.coerce.number().int().nonnegative().default(DEFAULT_DISPATCH_GRACE_SECONDS) }, env) as Record<string, number>;
  const slotLimit = readSlotLimit(env);
  return new SagaService({
    store,
    clock: systemClock,
    queueUrl: (queue) => {
      const url = urls[queue.envVar];
      if (!url) throw new ConfigurationError(`No URL is configured for dispatch queue ${queue.name} (${queue.envVar})`);
      return url;
    },
    tenantSlotLimit: () => slotLimit,
    dispatchGraceSeconds: settings[SAGA_CONFIG_ENV.dispatchGraceSeconds]!,
  });
}
