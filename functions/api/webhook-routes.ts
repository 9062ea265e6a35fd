import * as z from 'zod';
import type { AlertSubscriptions, TenantSecrets } from '../adapters/dynamodb/tenant-secrets.ts';
import type { WebhookDeliveries } from '../consumers/webhooks/deliveries.ts';
import { ForbiddenError } from '../core/errors.ts';
import { WORKER_ALERT_EVENT_TYPES } from '../core/events.ts';
import type { JobService } from '../core/job-service.ts';
import { isTenantAdmin, ROLES } from '../core/roles.ts';
import { RecordedAttemptSchema } from '../consumers/webhooks/delivery-record.ts';
import { EXAMPLE_JOB_ID } from './examples.ts';
import { json, readJsonBody } from './http.ts';
import { pageSchema } from './page.ts';
import type { Route } from './router.ts';
import { jobPageRoute } from './routes.ts';

export interface WebhookRouteDeps {
  service: JobService;
  deliveries: WebhookDeliveries;
  secrets: TenantSecrets;
  alerts: AlertSubscriptions;
}

/** Where worker alerts go; the delivery applies the same URL policy as job callbacks (https, public addresses). */
const AlertWebhookBodySchema = z.strictObject({ url: z.url({ protocol: /^https?$/ }).max(2048) });

const AlertWebhookSchema = z
  .object({
    url: z.string().nullable().meta({ description: 'Where worker alerts go; null: nowhere' }),
    events: z.array(z.enum(WORKER_ALERT_EVENT_TYPES)).meta({ description: 'The event types sent there' }),
  })
  .meta({ id: 'WorkerAlertWebhook' });

const SIGNATURE_SCHEME = 'X-Forgeflow-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">';
const WebhookSecretSchema = z
  .object({ tenantId: z.string(), secret: z.string().meta({ description: 'The HMAC-SHA256 key of every signature' }), scheme: z.literal(SIGNATURE_SCHEME) })
  .meta({ id: 'WebhookSecret' });

const alertExample = { url: 'https://hooks.example.org/forgeflow', events: [...WORKER_ALERT_EVENT_TYPES] };

function requireTenantAdmin(actor: Parameters<typeof isTenantAdmin>[0]): void {
  if (!isTenantAdmin(actor)) throw new ForbiddenError("Only the tenant's admins may manage its webhooks");
}

export function webhookRoutes({ service, deliveries, secrets, alerts }: WebhookRouteDeps): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/webhooks/secret',
      doc: {
        operationId: 'getWebhookSecret',
        summary: "The tenant's webhook signing secret",
        description: 'Verify each delivery with it: recompute the signature over the raw body, compare in constant time, refuse timestamps older than 5 minutes.',
        tag: 'Webhooks',
        roles: [ROLES.TENANT_ADMIN],
        responses: { 200: { description: 'The secret', body: WebhookSecretSchema, example: { tenantId: 'acme', secret: 'whsec_example-not-a-real-secret', scheme: SIGNATURE_SCHEME } } },
      },
      async handle({ actor }) {
        // The signing secret lets its holder forge deliveries to every receiver of the tenant: admins only.
        if (!isTenantAdmin(actor)) throw new ForbiddenError("Only the tenant's admins may read its webhook signing secret");
        const body: z.output<typeof WebhookSecretSchema> = { tenantId: actor.tenantId, secret: await secrets.webhookSecret(actor.tenantId), scheme: SIGNATURE_SCHEME };
        return json(200, body);
      },
    },
    {
      method: 'GET',
      path: '/v1/webhooks/worker-alerts',
      doc: {
        operationId: 'getWorkerAlertWebhook',
        summary: 'Where worker alerts go',
        tag: 'Webhooks',
        roles: [ROLES.TENANT_ADMIN],
        responses: { 200: { description: 'The subscription', body: AlertWebhookSchema, example: alertExample } },
      },
      async handle({ actor }) {
        requireTenantAdmin(actor);
        return json(200, { url: (await alerts.get(actor.tenantId)) ?? null, events: [...WORKER_ALERT_EVENT_TYPES] } satisfies z.output<typeof AlertWebhookSchema>);
      },
    },
    {
      method: 'POST',
      path: '/v1/webhooks/worker-alerts',
      doc: {
        operationId: 'setWorkerAlertWebhook',
        summary: 'Send worker alerts to a URL',
        description: "Opt in to the platform's worker CPU and memory alerts; deliveries are signed and checked like job callbacks.",
        tag: 'Webhooks',
        roles: [ROLES.TENANT_ADMIN],
        body: { schema: AlertWebhookBodySchema, required: true, example: { url: alertExample.url } },
        responses: { 200: { description: 'The subscription', body: AlertWebhookSchema, example: alertExample } },
      },
      async handle({ event, actor }) {
        requireTenantAdmin(actor);
        const { url } = AlertWebhookBodySchema.parse(readJsonBody(event, { required: true }));
        await alerts.set(actor.tenantId, url);
        return json(200, { url, events: [...WORKER_ALERT_EVENT_TYPES] } satisfies z.output<typeof AlertWebhookSchema>);
      },
    },
    {
      method: 'DELETE',
      path: '/v1/webhooks/worker-alerts',
      doc: {
        operationId: 'deleteWorkerAlertWebhook',
        summary: 'Stop sending worker alerts',
        tag: 'Webhooks',
        roles: [ROLES.TENANT_ADMIN],
        responses: { 204: { description: 'No URL any more' } },
      },
      async handle({ actor }) {
        requireTenantAdmin(actor);
        await alerts.set(actor.tenantId, undefined);
        return { statusCode: 204, headers: {}, body: '' };
      },
    },
    jobPageRoute('/v1/jobs/{id}/webhook-deliveries', service, (jobId, limit, cursor) => deliveries.list(jobId, limit, cursor), {
      operationId: 'listJobWebhookDeliveries',
      summary: "A job's webhook deliveries",
      description: 'Every delivery attempt to its callback URL, with the status code or error, for debugging a receiver.',
      tag: 'Webhooks',
      page: pageSchema(RecordedAttemptSchema, 'WebhookDeliveryPage'),
      example: {
        items: [{ jobId: EXAMPLE_JOB_ID, eventId: '01JHGW8Q9X3M5V7B2N4K6P8R0T', eventType: 'JobQueued', attempt: 1, url: 'https://hooks.example.org/jobs', statusCode: 200, durationMs: 84, at: '2025-01-15T09:30:00.512Z' }],
        nextCursor: null,
      },
    }),
  ];
}
