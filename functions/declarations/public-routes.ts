/**
 * The routes that take no token, declared once: the API's router serves them without authentication, the HTTP API
 * (lib/http-api.ts) gives them no authorizer, and the local gateway (local/http-gateway.ts) lets them through. Every
 * other route is authenticated by default: a route is public only if it is listed here. `why` is the reason given to
 * cdk-nag for a route without authorization.
 */
export const PUBLIC_ROUTES = {
  health: {
    method: 'GET',
    path: '/health',
    why:
      'GET /health is the liveness probe for load balancers and uptime checks, which hold no token. It returns ' +
      'only whether the job store answers, no tenant data, and is throttled with the rest of the stage.',
  },
  openApi: {
    method: 'GET',
    path: '/openapi.json',
    why:
      'GET /openapi.json is the API description (OpenAPI 3.1) that clients and code generators read before they hold a ' +
      'token. It is the same document for every caller, built from the code, with no tenant data, and is throttled ' +
      'with the rest of the stage.',
  },
} as const;

export type PublicRoute = (typeof PUBLIC_ROUTES)[keyof typeof PUBLIC_ROUTES];

/** `METHOD /path`, as API Gateway spells a route key (and the local gateway with it). */
export const routeKey = (route: { readonly method: string; readonly path: string }) => `${route.method} ${route.path}`;

export const PUBLIC_ROUTE_KEYS: readonly string[] = Object.values(PUBLIC_ROUTES).map(routeKey);
