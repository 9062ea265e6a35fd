import type { TenantSecrets } from '../adapters/dynamodb/tenant-secrets.ts';
import type { WebhookDeliveries } from '../consumers/webhooks/deliveries.ts';
import { ForbiddenError } from '../core/errors.ts';
import type { JobService } from '../core/job-service.ts';
import { isTenantAdmin } from '../core/roles.ts';
import { json } from './http.ts';
import type { Route } from './router.ts';
import { jobPageRoute } from './routes.ts';

export interface WebhookRouteDeps {
  service: JobService;
  deliveries: WebhookDeliveries;
  secrets: TenantSecrets;
}

export function webhookRoutes({ service, deliveries, secrets }: WebhookRouteDeps): Route[] {
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
    jobPageRoute('/v1/jobs/{id}/webhook-deliveries', service, (jobId, limit, cursor) => deliveries.list(jobId, limit, cursor)),
  ];
}
