import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { API_SERVICE_NAME } from '../declarations/http-functions.ts';
import { METRICS_NAMESPACE } from '../declarations/metrics.ts';
import { flushMetrics } from '../shared/metrics.ts';
import { actorFrom } from './auth.ts';
import { errorBody, header, json, statusOf, toErrorResult, type HttpEvent, type HttpResult } from './http.ts';
import { Router, type Route } from './router.ts';
import type { TenantRateLimit } from './tenant-rate-limit.ts';

export interface PipelineDeps {
  logger: Logger;
  metrics: Metrics;
  /** Every authenticated request takes a token from its tenant's bucket before its route runs. */
  tenantRateLimit?: TenantRateLimit;
}

export type HttpApi = (event: HttpEvent) => Promise<HttpResult>;

const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The request pipeline every HTTP function runs its routes through: routing (JSON 404 and 405), auth, the tenant
 * rate limit, error mapping, the correlation id, the request log and metrics. Same code in each Lambda and in the
 * local runtime; only the routes differ (functions/declarations/http-functions.ts).
 */
export function httpApi(routes: Route[], deps: PipelineDeps): HttpApi {
  // A function with an authenticated route and no limit would let one tenant through unmetered: refuse to start.
  if (!deps.tenantRateLimit && routes.some((route) => !route.public)) throw new Error('Authenticated routes need a tenant rate limit');
  const router = new Router(routes);

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
      if (actor) await deps.tenantRateLimit!.admit(actor.tenantId);
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

/** The logger and metrics of an HTTP function's handler, under the API's one service name. */
export function apiTelemetry(): Pick<PipelineDeps, 'logger' | 'metrics'> {
  return { logger: new Logger({ serviceName: API_SERVICE_NAME }), metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: API_SERVICE_NAME }) };
}

/** The Lambda handler around an HttpApi: the invocation's context on every log line, metrics flushed after each. */
export function lambdaHandler(api: HttpApi, deps: Pick<PipelineDeps, 'logger' | 'metrics'>) {
  return async (event: HttpEvent, context: Context): Promise<HttpResult> => {
    deps.logger.addContext(context);
    try {
      return await api(event);
    } finally {
      flushMetrics(deps.metrics);
    }
  };
}

function internalError(logger: Logger, error: unknown): HttpResult {
  // Log the cause for operators; the client gets a stable code and no internals.
  logger.error('unhandled error', error as Error);
  return json(statusOf('INTERNAL_ERROR'), errorBody('INTERNAL_ERROR', 'The request could not be completed; try again'));
}
