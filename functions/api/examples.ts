import type { JobResource, JobSummary } from '../core/job.ts';
import type { WorkerResource } from '../core/fleet/worker.ts';
import type { EventEnvelope } from '../core/events.ts';
import type { QueueStats } from '../core/stats.ts';

/**
 * Examples for the OpenAPI document, typed as what the API returns; the generator also parses each one with the
 * schema it illustrates and refuses to build a document whose example the code would not produce.
 */
export const EXAMPLE_JOB_ID = 'job_0f8fad5bd9cb469fa16570867728950e';
export const EXAMPLE_WORKER_ID = 'w-01j9z3q4m5n6p7q8r9s0t1v2w3';

export const EXAMPLE_JOB: JobResource = {
  jobId: EXAMPLE_JOB_ID,
  tenantId: 'acme',
  status: 'SUCCEEDED',
  command: 'echo hello && sleep 2',
  args: [],
  env: {},
  priority: 'high',
  timeoutSeconds: 60,
  maxAttempts: 3,
  workerClass: 'default',
  metadata: { team: 'data' },
  version: 5,
  run: 1,
  attempts: 1,
  cancelRequested: false,
  createdAt: '2025-01-15T09:30:00.000Z',
  updatedAt: '2025-01-15T09:30:03.412Z',
  createdBy: 'alice',
  startedAt: '2025-01-15T09:30:00.321Z',
  finishedAt: '2025-01-15T09:30:03.410Z',
  workerId: EXAMPLE_WORKER_ID,
  result: { exitCode: 0, durationMs: 2087, outputTail: 'hello\n' },
};

export const EXAMPLE_QUEUED_JOB: JobResource = (() => {
  const { startedAt: _s, finishedAt: _f, workerId: _w, result: _r, ...job } = EXAMPLE_JOB;
  return { ...job, status: 'QUEUED', version: 1, updatedAt: job.createdAt };
})();

export const EXAMPLE_JOB_SUMMARY: JobSummary = {
  jobId: EXAMPLE_JOB_ID,
  tenantId: 'acme',
  status: 'QUEUED',
  priority: 'high',
  workerClass: 'default',
  timeoutSeconds: 60,
  maxAttempts: 3,
  attempts: 0,
  run: 1,
  cancelRequested: false,
  createdAt: '2025-01-15T09:30:00.000Z',
  updatedAt: '2025-01-15T09:30:00.000Z',
  createdBy: 'alice',
};

export const EXAMPLE_EVENT: EventEnvelope<'JobQueued'> = {
  id: '01JHGW8Q9X3M5V7B2N4K6P8R0T',
  type: 'JobQueued',
  source: 'forgeflow.jobs',
  subject: EXAMPLE_JOB_ID,
  tenantId: 'acme',
  time: '2025-01-15T09:30:00.000Z',
  correlationId: '5f0c2a8e-8d1b-4c1e-9a57-3f1d2b6c7e90',
  causationId: null,
  version: 1,
  data: {
    jobId: EXAMPLE_JOB_ID,
    run: 1,
    attempts: 0,
    status: 'QUEUED',
    previousStatus: null,
    priority: 'high',
    workerClass: 'default',
    createdAt: '2025-01-15T09:30:00.000Z',
    reason: 'submitted',
    timeoutSeconds: 60,
    maxAttempts: 3,
  },
};

export const EXAMPLE_STATS: QueueStats = {
  queued: { critical: 0, high: 2, medium: 5, low: 1 },
  running: { critical: 1, high: 1, medium: 4, low: 0 },
  totals: { SUCCEEDED: 120, FAILED: 3, CANCELLED: 2, DEAD_LETTERED: 1 },
  byStatus: {
    QUEUED: { critical: 0, high: 2, medium: 4, low: 1 },
    RETRY_SCHEDULED: { critical: 0, high: 0, medium: 1, low: 0 },
    SUCCEEDED: { critical: 10, high: 30, medium: 70, low: 10 },
    FAILED: { critical: 0, high: 1, medium: 2, low: 0 },
    CANCELLED: { critical: 0, high: 0, medium: 2, low: 0 },
    DEAD_LETTERED: { critical: 0, high: 0, medium: 1, low: 0 },
  },
};

export const EXAMPLE_WORKER: WorkerResource = {
  workerId: EXAMPLE_WORKER_ID,
  class: 'default',
  state: 'READY',
  version: 4,
  region: 'us-east-1',
  instanceId: 'i-0abc123def4567890',
  availabilityZone: 'us-east-1a',
  instanceType: 'c7g.large',
  market: 'spot',
  amiName: 'default',
  amiId: 'ami-0123456789abcdef0',
  slots: 4,
  runningJobs: 1,
  agentVersion: '0.1.0',
  launchedAt: '2025-01-15T09:00:00.000Z',
  readyAt: '2025-01-15T09:01:10.000Z',
  lastHeartbeatAt: '2025-01-15T09:30:00.000Z',
  createdAt: '2025-01-15T08:59:58.000Z',
  updatedAt: '2025-01-15T09:01:10.000Z',
  requestedBy: 'scaler',
  detailedMonitoring: false,
  metrics: {},
  alerts: {},
};
