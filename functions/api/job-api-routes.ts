import type { EventHistory } from '../adapters/dynamodb/event-history.ts';
import type { TenantSecrets } from '../adapters/dynamodb/tenant-secrets.ts';
import type { WebhookDeliveries } from '../consumers/webhooks/deliveries.ts';
import type { JobLogReader } from '../core/job-logs.ts';
import { JobService } from '../core/job-service.ts';
import type { Clock, JobStore } from '../core/ports.ts';
import { batchSubmitRoute } from './batch-submit-route.ts';
import { logRoutes } from './log-routes.ts';
import type { Route } from './router.ts';
import { jobRoutes } from './routes.ts';
import { webhookRoutes } from './webhook-routes.ts';

export interface JobApiRouteDeps {
  store: JobStore;
  history: EventHistory;
  deliveries: WebhookDeliveries;
  secrets: TenantSecrets;
  clock: Clock;
  /** Jobs' output (the log group, or the local store); absent, `GET /v1/jobs/{id}/logs` does not exist (404). */
  jobLogs?: JobLogReader;
}

/**
 * The api function's routes (HTTP_FUNCTIONS.api): jobs, their output and history, webhooks, stats and health.
 * Building them only captures their dependencies: nothing is called until a request comes.
 */
export function jobApiRoutes(deps: JobApiRouteDeps): Route[] {
  const service = new JobService({ store: deps.store, clock: deps.clock });
  return [
    ...jobRoutes({ service, store: deps.store, history: deps.history }),
    batchSubmitRoute(service),
    ...(deps.jobLogs ? logRoutes({ service, logs: deps.jobLogs }) : []),
    ...webhookRoutes({ service, deliveries: deps.deliveries, secrets: deps.secrets, alerts: deps.secrets.alertSubscriptions() }),
  ];
}
