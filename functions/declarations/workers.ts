import { PRIORITIES, type Priority } from '../core/priority.ts';
import type { QueueDefinition } from './queues.ts';
import { WORKER_CLASSES } from './worker-classes.ts';

/** Worker classes the platform runs (declared in worker-classes.ts). A job's `workerClass` must be one of these (else CONFIGURATION_ERROR). */
export { WORKER_CLASSES, type WorkerClass } from './worker-classes.ts';

/**
 * Liveness: an agent extends the dispatch message's visibility every LIVENESS_INTERVAL_SECONDS to
 * VISIBILITY_EXTENSION_SECONDS from now, and sends a task heartbeat at the same time. A dead agent stops
 * extending; the message reappears at most VISIBILITY_EXTENSION_SECONDS later and another agent takes it.
 */
export const LIVENESS_INTERVAL_SECONDS = 10;
export const VISIBILITY_EXTENSION_SECONDS = 30;
/**
 * The worker-control function's timeout (register, heartbeat, drain, a job's start): a DescribeInstances, a few
 * DynamoDB writes and at most one TerminateInstances or SendTaskSuccess. The CDK app gives it; locally it is what
 * the invocation's context counts down from.
 */
export const WORKER_CONTROL_TIMEOUT_SECONDS = 15;
/** Receives of one dispatch message before it goes to the DLQ, whose handler fails the task with WORKER_LOST. */
export const DISPATCH_MAX_RECEIVE_COUNT = 3;

/**
 * Weights of the weighted round-robin over priorities when several queues have work: critical is taken 8 times as
 * often as low, but low is never starved.
 */
export const PRIORITY_WEIGHTS: Record<Priority, number> = { critical: 8, high: 4, medium: 2, low: 1 };

const DAY = 24 * 3600;

/** One dispatch queue per (worker class, priority), declared once for CDK, saga and agents. */
export function dispatchQueue(workerClass: string, priority: Priority): QueueDefinition {
  const base = `forgeflow-dispatch-${workerClass}-${priority}`;
  const id = `Dispatch${pascal(workerClass)}${pascal(priority)}`;
  return {
    id: `${id}Queue`,
    name: base,
    envVar: `DISPATCH_QUEUE_URL_${workerClass.toUpperCase().replace(/-/g, '_')}_${priority.toUpperCase()}`,
    visibilityTimeoutSeconds: VISIBILITY_EXTENSION_SECONDS,
    maxReceiveCount: DISPATCH_MAX_RECEIVE_COUNT,
    retentionSeconds: 4 * DAY,
    dlq: { id: `${id}Dlq`, name: `${base}-dlq`, envVar: `DISPATCH_DLQ_URL_${workerClass.toUpperCase().replace(/-/g, '_')}_${priority.toUpperCase()}`, retentionSeconds: 14 * DAY },
    batchSize: 1,
  };
}

export const DISPATCH_QUEUES: readonly QueueDefinition[] = WORKER_CLASSES.flatMap((c) => PRIORITIES.map((p) => dispatchQueue(c, p)));

/**
 * The variables that make an agent a fleet member, declared once for the bootstrap (EC2), the local provider and
 * the CDK app: the worker-control function it calls, and where its identity comes from.
 */
export const AGENT_FLEET_ENV = {
  controlFunction: 'FORGEFLOW_CONTROL_FUNCTION',
  instanceIdentity: 'FORGEFLOW_INSTANCE_IDENTITY',
} as const;

/** Agents report job starts here; a consumer records RUNNING (agents have no database access). */
export const WORKER_REPORTS_QUEUE: QueueDefinition = {
  id: 'WorkerReportsQueue',
  name: 'forgeflow-worker-reports',
  envVar: 'WORKER_REPORTS_QUEUE_URL',
  visibilityTimeoutSeconds: 30,
  maxReceiveCount: 5,
  retentionSeconds: 4 * DAY,
  dlq: { id: 'WorkerReportsDlq', name: 'forgeflow-worker-reports-dlq', envVar: 'WORKER_REPORTS_DLQ_URL', retentionSeconds: 14 * DAY },
  batchSize: 10,
};

function pascal(text: string): string {
  return text.replace(/(^|-)([a-z0-9])/g, (_, __, c: string) => c.toUpperCase());
}
