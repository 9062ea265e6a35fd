import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import type { DynamoInbox } from '../../adapters/dynamodb/inbox.ts';
import type { AlertSubscriptions, TenantSecrets } from '../../adapters/dynamodb/tenant-secrets.ts';
import { WORKER_ALERT_EVENT_TYPES, type EventEnvelope } from '../../core/events.ts';
import { emitMetric } from '../../shared/platform-metrics.ts';
import { deliverWebhook, type DeliverWebhookInput, type DeliveryResult } from '../../webhooks/deliver.ts';
import { checkWebhookTarget, WebhookTargetRefusedError, type ResolveHost, type WebhookTargetPolicy } from '../../webhooks/url-policy.ts';
import type { EffectOutcome } from '../consumer.ts';
import type { WebhookDeliveries } from './deliveries.ts';

export const WEBHOOKS_CONSUMER = 'webhooks';

export class DeliveryFailedError extends Error {
  override name = 'DeliveryFailedError';
}

export interface WebhookConsumerDeps {
  inbox: DynamoInbox;
  secrets: TenantSecrets;
  deliveries: WebhookDeliveries;
  policy: WebhookTargetPolicy;
  /** How long a claim protects an in-flight delivery: the queue's visibility timeout. */
  leaseSeconds: number;
  resolve?: ResolveHost;
  delivery?: Partial<Pick<DeliverWebhookInput, 'timeoutMs' | 'maxAttempts' | 'baseDelayMs' | 'capDelayMs' | 'sleep'>>;
  /** Tenants subscribed to worker alerts; absent: worker alerts are skipped. */
  alerts?: Pick<AlertSubscriptions, 'list'>;
  /** Where WebhookDeliveries is emitted; without it nothing is (tests that do not look at metrics). */
  metrics?: Metrics;
}

/**
 * The outcome of one delivery attempt, as WebhookDeliveries counts it: `refused` when our URL policy stopped the
 * request, `gave-up` when the receiver's answer means a retry cannot help (4xx, a redirect) and the event is
 * finished undelivered, `retried` when another attempt follows, here or after the queue redelivers the event.
 */
export type WebhookOutcome = 'delivered' | 'retried' | 'gave-up' | 'refused';

/** What the last attempt of a delivery call counts as; those before it were retried within the call. */
function finalOutcome(result: DeliveryResult): WebhookOutcome {
  if (result.delivered) return 'delivered';
  return result.permanent ? 'gave-up' : 'retried';
}

/** Time kept back from the Lambda's remaining time: recording the outcome and answering the batch. */
export const DELIVERY_MARGIN_MS = 5000;


/** Where one delivery goes: the URL, whose secret signs it, and the inbox name its claim is made under. */
interface Destination {
  url: string;
  tenantId: string;
  consumer: string;
}

/**
 * POSTs a job event to the job's callback URL, once; a worker alert to each subscribed tenant's URL, once per
 * tenant. Each claim comes first (an HTTP call cannot join a DynamoDB transaction); the request carries the event
 * id so a receiver can drop the rare repeat after a crash. Alert subscribers are served in turn, each under its
 * own claim: when one fails, the queue redelivers the event and those already served are skipped.
 */
export function webhookEffect(deps: WebhookConsumerDeps) {
  const deliverOnce = deliverer(deps);
  return async (event: EventEnvelope, context?: Context): Promise<EffectOutcome> => {
    // Worker alerts go to every tenant that subscribed (POST /v1/webhooks/worker-alerts), signed with its own secret.
    if ((WORKER_ALERT_EVENT_TYPES as readonly string[]).includes(event.type)) {
      const subscribers = (await deps.alerts?.list()) ?? [];
      let outcome: EffectOutcome = subscribers.length === 0 ? 'skipped' : 'duplicate';
      for (const { tenantId, url } of subscribers) {
        if ((await deliverOnce(event, { url, tenantId, consumer: `${WEBHOOKS_CONSUMER}#${tenantId}` }, context)) === 'applied') outcome = 'applied';
      }
      return outcome;
    }
    const callbackUrl = (event.data as { callbackUrl?: string }).callbackUrl;
    if (!callbackUrl) return 'skipped';
    return deliverOnce(event, { url: callbackUrl, tenantId: event.tenantId, consumer: WEBHOOKS_CONSUMER }, context);
  };
}

function deliverer(deps: WebhookConsumerDeps) {
  return (event: EventEnvelope, destination: Destination, context?: Context): Promise<EffectOutcome> => {
    const count = (outcome: WebhookOutcome) => {
      if (deps.metrics) emitMetric(deps.metrics, 'WebhookDeliveries', 1, { Outcome: outcome });
    };
    const record = async (attempt: Parameters<DeliverWebhookInput['recordAttempt']>[0]) => {
      await deps.deliveries.record({ ...attempt, jobId: event.subject, eventType: event.type });
      if (attempt.nextDelayMs !== undefined) count('retried');
    };
    return deps.inbox.runExternalOnce(destination.consumer, event.id, deps.leaseSeconds, async () => {
      let target;
      try {
        target = await checkWebhookTarget(destination.url, deps.policy, deps.resolve);
      } catch (error) {
        if (!(error instanceof WebhookTargetRefusedError) || error.retryable) throw error;
        // A URL we will never call is a final answer, recorded so the user can see why nothing arrived.
        await record({ eventId: event.id, attempt: 0, url: destination.url.split('?')[0]!, error: { code: 'TARGET_REFUSED', message: error.message }, durationMs: 0, at: new Date().toISOString() });
        count('refused');
        return;
      }
      const result = await deliverWebhook({
        ...deps.delivery,
        // One slow receiver must not outlast the invocation and fail every other tenant's event in the batch.
        ...(context ? { deadline: Date.now() + context.getRemainingTimeInMillis() - DELIVERY_MARGIN_MS } : {}),
        target,
        eventId: event.id,
        eventType: event.type,
        body: JSON.stringify(event),
        secret: await deps.secrets.webhookSecret(destination.tenantId),
        recordAttempt: record,
      });
      // No attempt at all when the invocation had no time left for one: nothing was sent, so nothing is counted.
      if (result.attempts > 0) count(finalOutcome(result));
      // Delivered, or refused for good by the receiver (4xx): either way this event is finished.
      if (!result.delivered && !result.permanent) {
        const why = result.deferred ? 'no time was left in this invocation for the next retry' : `failed ${result.attempts} times`;
        throw new DeliveryFailedError(`Webhook for event ${event.id}: ${why} (last status ${result.lastStatus ?? 'none'}); the queue delivers it again`);
      }
    });
  };
}
