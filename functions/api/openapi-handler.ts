import { apiRoutesByFunction } from './app.ts';
import { documentationDeps } from './documented-routes.ts';
import { apiTelemetry, httpApi, lambdaHandler } from './pipeline.ts';

// The openapi function (HTTP_FUNCTIONS.openApi): `GET /openapi.json`, the description of every route of the three
// functions. It builds their routes over stand-ins and calls none of them, so it reads no table and holds no grant.
const { logger, metrics } = apiTelemetry();
const routes = apiRoutesByFunction(documentationDeps()).openApi;

export const handler = lambdaHandler(httpApi(routes, { logger, metrics }), { logger, metrics });
