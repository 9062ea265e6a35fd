import { EVENT_SOURCE, SLOT_FREEING_EVENTS, SLOT_HOLDING_STATUSES, WORKER_ALERT_EVENT_TYPES, WORKER_EVENT_SOURCE } from '../core/events.ts';
import { ADMISSION_QUEUE, JOB_CONTROL_QUEUE, SCALER_QUEUE, WEBHOOKS_QUEUE, type QueueDefinition } from './queues.ts';

/** The EventBridge bus every job event is published to. */
export const EVENT_BUS = { id: 'EventBus', name: 'forgeflow', envVar: 'EVENT_BUS_NAME' } as const;

/** An EventBridge pattern in the subset local/event-pattern.ts implements. */
export type EventPattern = Record<string, unknown>;

export interface RuleDefinition {
  id: string;
  name: string;
  description: string;
  pattern: EventPattern;
  target: QueueDefinition;
}

/**
 * The rules, declared once: the CDK app creates them on the bus, the local bus matches the same patterns.
 * Every event the relay publishes has source `forgeflow.jobs` (or `forgeflow.workers`), detail-type = event type,
 * detail = envelope.
 */
export const RULES = [
  {
    id: 'WebhooksRule',
    name: 'forgeflow-webhooks',
    description: 'Job events of jobs that asked for a callback',
    pattern: { source: [EVENT_SOURCE], 'detail-type': [{ prefix: 'Job' }], detail: { data: { callbackUrl: [{ exists: true }] } } },
    target: WEBHOOKS_QUEUE,
  },
  {
    id: 'WorkerAlertWebhooksRule',
    name: 'forgeflow-worker-alert-webhooks',
    description: "A worker's CPU or memory threshold crossed or cleared: the tenants that subscribed get a webhook",
    pattern: { source: [WORKER_EVENT_SOURCE], 'detail-type': [...WORKER_ALERT_EVENT_TYPES] },
    target: WEBHOOKS_QUEUE,
  },
  {
    id: 'JobControlRule',
    name: 'forgeflow-job-control',
    description: 'Cancellations reach the saga',
    pattern: { source: [EVENT_SOURCE], 'detail-type': ['JobCancelled', 'JobCancelRequested'] },
    target: JOB_CONTROL_QUEUE,
  },
  {
    id: 'ScalerNudgeRule',
    name: 'forgeflow-scaler-nudge',
    description: "A dispatched job nudges its worker class's scaler",
    pattern: { source: [EVENT_SOURCE], 'detail-type': ['JobDispatched'] },
    target: SCALER_QUEUE,
  },
  {
    id: 'AdmissionRule',
    name: 'forgeflow-admission',
    description: "A job that held a slot ended or went back to wait while runs of its tenant were parked: admit the next",
    pattern: {
      source: [EVENT_SOURCE],
      'detail-type': [...SLOT_FREEING_EVENTS],
      // Events committed before `admitNext` existed still pass: one of them may be a parked run's only wake-up.
      detail: { data: { previousStatus: [...SLOT_HOLDING_STATUSES], $or: [{ admitNext: [true] }, { admitNext: [{ exists: false }] }] } },
    },
    target: ADMISSION_QUEUE,
  },
] as const satisfies readonly RuleDefinition[];
