import type { FleetWiringOptions } from '../fleet/wiring.ts';
import { PUBLIC_ROUTES, type PublicRoute } from './public-routes.ts';

/**
 * Which Lambda serves which paths of the HTTP API, declared once. lib/http-api.ts makes these API Gateway routes,
 * each integrated with its function (lib/api-function.ts); the local gateway (local/http-gateway.ts) picks the
 * handler by the same routes with the same precedence; test/api/openapi.test.ts checks that every route of each
 * function's router reaches that function. Three functions rather than one keep each bundle, cold start and role to
 * what its routes use: docs/decisions/0019-api-split.md.
 */

/** An authenticated gateway route (behind the JWT authorizer); public ones are PUBLIC_ROUTES entries, with their why. */
export interface ProtectedGatewayRoute {
  readonly method: 'ANY';
  /** An API Gateway path: literal segments, then at most a greedy `{proxy+}` at the end. */
  readonly path: string;
}

export type GatewayRoute = ProtectedGatewayRoute | PublicRoute;

export interface HttpFunctionDeclaration {
  /** The handler module, relative to the project root (it exports `handler`). */
  readonly entry: string;
  readonly routes: readonly GatewayRoute[];
  /** What its handler asks fleetFromEnv for, and lib/api-function.ts grants; absent, it has no fleet. */
  readonly fleet?: Omit<FleetWiringOptions, 'metrics'>;
}

/**
 * The HTTP functions. The workers' routes sit under the api's `ANY /v1/{proxy+}`: API Gateway (and the local gateway)
 * send a request to the most specific route, so `/v1/workers...` reaches workersApi and every other `/v1` path the api.
 */
export const HTTP_FUNCTIONS = {
  /** Jobs, their output and history, webhooks, stats and health: the submit path, holding no fleet rights. */
  api: {
    entry: 'functions/api/handler.ts',
    routes: [{ method: 'ANY', path: '/v1/{proxy+}' }, PUBLIC_ROUTES.health],
  },
  /** The fleet's routes for admins and operators: the only HTTP function that may terminate or start workers. */
  workersApi: {
    entry: 'functions/api/workers-handler.ts',
    routes: [
      { method: 'ANY', path: '/v1/workers' },
      { method: 'ANY', path: '/v1/workers/{proxy+}' },
    ],
    // It terminates removed workers and fails their jobs' tasks; it launches none (the provisioning saga does).
    fleet: { ec2: true, queueDepth: false, releaseJobs: true },
  },
  /** The API's description of all three, built from their routes: no table, no AWS client. */
  openApi: {
    entry: 'functions/api/openapi-handler.ts',
    routes: [PUBLIC_ROUTES.openApi],
  },
} as const satisfies Record<string, HttpFunctionDeclaration>;

export type HttpFunctionName = keyof typeof HTTP_FUNCTIONS;

export const HTTP_FUNCTION_NAMES = Object.keys(HTTP_FUNCTIONS) as HttpFunctionName[];

/**
 * The Powertools service of all three: one service split over three functions, so the request metrics (`http2xx`…)
 * and log queries keep the one name they had before the split.
 */
export const API_SERVICE_NAME = 'forgeflow-api';

/** Public means listed in PUBLIC_ROUTES, nothing else: a route cannot lose its authorizer by its shape alone. */
export const isPublicGatewayRoute = (route: GatewayRoute): route is PublicRoute => (Object.values(PUBLIC_ROUTES) as readonly GatewayRoute[]).includes(route);

const GREEDY = /\{\w+\+\}$/;

function matches(route: GatewayRoute, method: string, path: string): boolean {
  if (route.method !== 'ANY' && route.method !== method) return false;
  const greedy = GREEDY.exec(route.path);
  // A greedy variable takes one character or more: `/v1/workers/` is not `/v1/workers/{proxy+}`.
  return greedy ? path.length > greedy.index && path.startsWith(route.path.slice(0, greedy.index)) : path === route.path;
}

/** Higher is more specific: a route without a greedy variable, then the longer literal prefix, then its own method over ANY. */
function specificity(route: GatewayRoute): number[] {
  const greedy = GREEDY.exec(route.path);
  return [greedy ? 0 : 1, greedy ? greedy.index : route.path.length, route.method === 'ANY' ? 0 : 1];
}

function moreSpecific(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) return a[i]! > b[i]!;
  return false;
}

/**
 * The function and route API Gateway picks for a request, or undefined where no route matches (it answers 404
 * itself, before any authorizer). `path` is the raw request path, as the gateway matches it.
 */
export function httpFunctionFor(method: string, path: string): { name: HttpFunctionName; route: GatewayRoute } | undefined {
  let best: { name: HttpFunctionName; route: GatewayRoute; rank: number[] } | undefined;
  for (const name of HTTP_FUNCTION_NAMES) {
    for (const route of HTTP_FUNCTIONS[name].routes) {
      if (!matches(route, method.toUpperCase(), path)) continue;
      const rank = specificity(route);
      if (!best || moreSpecific(rank, best.rank)) best = { name, route, rank };
    }
  }
  return best && { name: best.name, route: best.route };
}
