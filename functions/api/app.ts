import type { WorkerService } from '../core/fleet/worker-service.ts';
import type { HttpFunctionName } from '../declarations/http-functions.ts';
import { jobApiRoutes, type JobApiRouteDeps } from './job-api-routes.ts';
import { openApiRoute } from './openapi-route.ts';
import { httpApi, type HttpApi, type PipelineDeps } from './pipeline.ts';
import type { Route } from './router.ts';
import type { TenantRateLimit } from './tenant-rate-limit.ts';
import { workerRoutes } from './worker-routes.ts';

/** What the routes of all three HTTP functions are built from: no logger, metrics or rate limit (the OpenAPI generator builds them too). */
export interface ApiRouteDeps extends JobApiRouteDeps {
  /** The fleet's use cases for admins and operators; absent, the `/v1/workers` routes do not exist (404). */
  workers?: WorkerService;
}

export interface ApiDeps extends ApiRouteDeps, PipelineDeps {
  tenantRateLimit: TenantRateLimit;
}

/**
 * The routes of each HTTP function (functions/declarations/http-functions.ts sends their paths to it), built as its
 * handler builds them. The openapi function's one route describes all of them, itself included.
 */
export function apiRoutesByFunction(deps: ApiRouteDeps): Record<HttpFunctionName, Route[]> {
  const byFunction: Record<HttpFunctionName, Route[]> = {
    api: jobApiRoutes(deps),
    // Worker events are kept in the outbox like job events, under the worker id.
    workersApi: deps.workers ? workerRoutes({ workers: deps.workers, history: deps.history }) : [],
    openApi: [],
  };
  byFunction.openApi.push(openApiRoute(() => Object.values(byFunction).flat()));
  return byFunction;
}

/** Every route the API serves, over its three functions: the list `GET /openapi.json` describes. */
export function apiRoutes(deps: ApiRouteDeps): Route[] {
  return Object.values(apiRoutesByFunction(deps)).flat();
}

/**
 * The three functions' routes behind one pipeline: the whole API as a client sees it through the gateway, in one
 * process (the API tests). Each Lambda runs the same pipeline (httpApi) over its own share of these routes.
 */
export function createApi(deps: ApiDeps): HttpApi {
  return httpApi(apiRoutes(deps), deps);
}
