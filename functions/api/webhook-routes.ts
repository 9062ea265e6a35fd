import * as z from 'zod';
import type { AlertSubscriptions, TenantSecrets } from '../adapters/dynamodb/tenant-secrets.ts';
import type { WebhookDeliveries } from '../consumers/webhooks/deliveries.ts';
import { ForbiddenError } from '../core/errors.ts';
import { WORKER_ALERT_EVENT_TYPES } from '../core/events.ts';
import type { JobService } from '../core/job-service.ts';
import { isTenantAdmin } from '../core/roles.ts';
import { json, readJsonBody } from './http.ts';
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

function requireTenantAdmin(actor: Parameters<typeof isTenantAdmin>[0]): void {
  if (!isTenantAdmin(actor)) throw new ForbiddenError("Only the tenant's admins may manage its webhooks");
}

export function webhookRoutes({ service, deliveries, secrets, alerts }: WebhookRouteDeps): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/webhooks/secret',
      async handle({ actor }) {
        // The signing secret lets its holder forge deliveries to every receiver of the tenant: admins only.
        if (!isTenantAdmin(actor)) throw new ForbiddenError("Only the tenant's admins may read its webhook signing secret");
        return json(200, { tenantId: actor.tenantId, secret: await secrets.webhookSecret(actor.tenantId), scheme: 'X-Forgeflow-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">' });
      },
    },
    {
      method: 'GET',
      path: '/v1/webhooks/worker-alerts',
      async handle({ actor }) {
        requireTenantAdmin(actor);
        return json(200, { url: (await alerts.get(actor.tenantId)) ?? null, events: WORKER_ALERT_EVENT_TYPES });
      },
    },
    {
      method: 'POST',
      path: '/v1/webhooks/worker-alerts',
      async handle({ event, actor }) {
        requireTenantAdmin(actor);
        const { url } = AlertWebhookBodySchema.parse(readJsonBody(event, { required: true }));
        await alerts.set(actor.tenantId, url);
        return json(200, { url, events: WORKER_ALERT_EVENT_TYPES });
      },
    },
    {
      method: 'DELETE',
      path: '/v1/webhooks/worker-alerts',
      async handle({ actor }) {
        requireTenantAdmin(actor);
        await alerts.set(actor.tenantId, undefined);
        return { statusCode: 204, headers: {}, body: '' };
      },
    },
    jobPageRoute('/v1/jobs/{id}/webhook-deliveries', service, (jobId, limit, cursor) => deliveries.list(jobId, limit, cursor)),
  ];
}
