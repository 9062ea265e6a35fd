import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { JobService } from '../core/job-service.ts';
import type { Clock, JobStore } from '../core/ports.ts';
import type { EventHistory } from '../adapters/dynamodb/event-history.ts';
import type { TenantSecrets } from '../adapters/dynamodb/tenant-secrets.ts';
import type { WebhookDeliveries } from '../consumers/webhooks/deliveries.ts';
import type { WorkerService } from '../core/fleet/worker-service.ts';
import { webhookRoutes } from './webhook-routes.ts';
import { actorFrom } from './auth.ts';
import { errorBody, header, json, statusOf, toErrorResult, type HttpEvent, type HttpResult } from './http.ts';
import { openApiRoute } from './openapi-route.ts';
import { Router, type Route } from './router.ts';
import { jobRoutes } from './routes.ts';
import { logRoutes } from './log-routes.ts';
import type { JobLogReader } from '../core/job-logs.ts';
import type { TenantRateLimit } from './tenant-rate-limit.ts';
import { workerRoutes } from './worker-routes.ts';

export interface ApiDeps {
  store: JobStore;
  history: EventHistory;
  deliveries: WebhookDeliveries;
  secrets: TenantSecrets;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  /** The fleet's use cases for admins and operators; absent, the `/v1/workers` routes do not exist (404). */
  workers?: WorkerService;
  /** Every authenticated request takes a token from its tenant's bucket before its route runs. */
  tenantRateLimit: TenantRateLimit;
  /** Jobs' output (the log group, or the local store); absent, `GET /v1/jobs/{id}/logs` does not exist (404). */
  jobLogs?: JobLogReader;
}

const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** What the routes are built from: no logger, metrics or rate limit, so the OpenAPI generator can build them too. */
export type ApiRouteDeps = Pick<ApiDeps, 'store' | 'history' | 'deliveries' | 'secrets' | 'clock' | 'workers' | 'jobLogs'>;

/**
 * Every route the API serves, `GET /openapi.json` included, which describes this very list. Building them only
 * captures their dependencies: nothing is called until a request comes.
 */
export function apiRoutes(deps: ApiRouteDeps): Route[] {
  const service = new JobService({ store: deps.store, clock: deps.clock });
  const routes: Route[] = [
    ...jobRoutes({ service, store: deps.store, history: deps.history }),
    ...(deps.jobLogs ? logRoutes({ service, logs: deps.jobLogs }) : []),
    ...webhookRoutes({ service, deliveries: deps.deliveries, secrets: deps.secrets, alerts: deps.secrets.alertSubscriptions() }),
    // Worker events are kept in the outbox like job events, under the worker id.
    ...(deps.workers ? workerRoutes({ workers: deps.workers, history: deps.history }) : []),
  ];
  routes.push(openApiRoute(() => routes));
  return routes;
}

/** Builds the API: routes, auth, error mapping and request metrics. Same code in Lambda and in the local runtime. */
export function createApi(deps: ApiDeps): (event: HttpEvent) => Promise<HttpResult> {
  const router = new Router(apiRoutes(deps));

  return async (event) => {
    const method = event.requestContext?.http?.method?.toUpperCase() ?? 'GET';
    const path = event.rawPath ?? '/';
    const supplied = header(event, 'x-correlation-id');
    const correlationId = supplied && CORRELATION_ID.test(supplied) ? supplied : (event.requestContext?.requestId ?? 'unknown');
    deps.logger.appendKeys({ correlationId });
    const started = Date.now();
    let result: HttpResult;
    try {
      const { route, params } = router.match(method, path);
      const actor = route.public ? undefined : actorFrom(event);
      // After authentication, so the bucket is the verified token's tenant, never one a request claims.
      if (actor) await deps.tenantRateLimit.admit(actor.tenantId);
      result = await route.handle({ event, params, actor: actor!, correlationId });
    } catch (error) {
      result = toErrorResult(error) ?? internalError(deps.logger, error);
    }
    result.headers['x-correlation-id'] = correlationId;
    deps.metrics.addMetric(`http${Math.floor(result.statusCode / 100)}xx`, MetricUnit.Count, 1);
    deps.logger.info('request', { method, path, status: result.statusCode, durationMs: Date.now() - started });
    deps.logger.removeKeys(['correlationId']);
    return result;
  };
}

function internalError(logger: Logger, error: unknown): HttpResult {
  // Log the cause for operators; the client gets a stable code and no internals.
  logger.error('unhandled error', error as Error);
  return json(statusOf('INTERNAL_ERROR'), errorBody('INTERNAL_ERROR', 'The request could not be completed; try again'));
}
