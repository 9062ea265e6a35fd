import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { BaseResolver, lintDocument, loadConfig, makeDocumentFromString } from '@redocly/openapi-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiRoutesByFunction, createApi } from '../../functions/api/app.ts';
import { documentationDeps, documentedRoutes } from '../../functions/api/documented-routes.ts';
import type { HttpEvent } from '../../functions/api/http.ts';
import { openApiDocument, serializeOpenApi } from '../../functions/api/openapi.ts';
import { Router } from '../../functions/api/router.ts';
import { TenantRateLimit } from '../../functions/api/tenant-rate-limit.ts';
import { HTTP_FUNCTION_NAMES, HTTP_FUNCTIONS, httpFunctionFor, isPublicGatewayRoute } from '../../functions/declarations/http-functions.ts';
import { PUBLIC_ROUTE_KEYS, routeKey } from '../../functions/declarations/public-routes.ts';
import { startHttpGateway, type GatewayIntegrations, type HttpGateway } from '../../local/http-gateway.ts';
import { lambdaContext } from '../../local/lambda.ts';

const root = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));
const checkedIn = () => readFileSync(root('docs/openapi.json'), 'utf8');
const generated = serializeOpenApi(openApiDocument(documentedRoutes()));
const document = JSON.parse(generated) as { paths: Record<string, Record<string, { security?: unknown[] }>> };

const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);
const documentedOperations = () =>
  Object.entries(document.paths).flatMap(([path, item]) =>
    Object.keys(item)
      .filter((key) => HTTP_METHODS.has(key))
      .map((method) => `${method.toUpperCase()} ${path}`),
  );

/** An API wired like the Lambda handler, but with stand-ins that throw if a route reaches its store. */
function apiWithoutStore(rateLimitTakes: string[]) {
  const logger = new Logger({ logLevel: 'SILENT' });
  return createApi({
    ...documentationDeps(),
    logger,
    metrics: new Metrics({ namespace: 'ForgeflowTest' }),
    tenantRateLimit: new TenantRateLimit({
      limiter: { take: async (key) => (rateLimitTakes.push(key), { granted: true, waitMs: 0 }) },
      limit: { burst: 1, refillPerSecond: 1 },
      logger,
    }),
  });
}

/** What API Gateway hands the handler for an unauthenticated request: no authorizer context at all. */
function anonymous(method: string, path: string): HttpEvent {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers: {},
    isBase64Encoded: false,
    requestContext: { requestId: 'openapi-test', http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' } },
  } as HttpEvent;
}

describe('The OpenAPI document', () => {
  it('is checked in as generated', () => {
    expect(checkedIn(), 'docs/openapi.json is out of date: run `npm run openapi` and commit the result').toBe(generated);
  });

  it("passes Redocly's recommended rules without an error", async () => {
    const config = await loadConfig({ configPath: root('redocly.yaml') });
    const problems = await lintDocument({ document: makeDocumentFromString(generated, 'docs/openapi.json'), config, externalRefResolver: new BaseResolver() });
    const describe = (p: (typeof problems)[number]) => `${p.severity} ${p.ruleId} at ${p.location[0]?.pointer}: ${p.message}`;
    const warnings = problems.filter((p) => p.severity === 'warn');
    if (warnings.length > 0) console.warn(`Redocly warnings:\n${warnings.map(describe).join('\n')}`);
    expect(problems.filter((p) => p.severity === 'error').map(describe)).toEqual([]);
  });

  it('describes every route of the three HTTP functions, and nothing else', () => {
    const byFunction = apiRoutesByFunction(documentationDeps());
    const served = Object.values(byFunction).flatMap((routes) => routes.map((route) => `${route.method} ${route.path}`));

    expect(documentedOperations().sort()).toEqual([...served].sort());
    expect(new Set(served).size).toBe(served.length);
    expect(documentedRoutes().map((route) => `${route.method} ${route.path}`)).toEqual(served);
  });

  it.each(HTTP_FUNCTION_NAMES)("serves each route of %s's router in that function: the gateway routes it there, and its router reaches it", (name) => {
    const routes = apiRoutesByFunction(documentationDeps())[name];
    const router = new Router(routes);
    expect(routes.length).toBeGreaterThan(0);
    for (const route of routes) {
      // A concrete path of its template, as a client sends it.
      const path = route.path.replace(/\{\w+\}/g, 'x');
      expect(httpFunctionFor(route.method, path)?.name, `${route.method} ${route.path}`).toBe(name);
      expect(router.match(route.method, path).route.handle).toBe(route.handle);
    }
  });

  it('gives each public route to exactly one function, and declares no other route public', () => {
    const declaredPublic = Object.values(HTTP_FUNCTIONS).flatMap((fn) => fn.routes.filter(isPublicGatewayRoute).map(routeKey));
    expect(declaredPublic.sort()).toEqual([...PUBLIC_ROUTE_KEYS].sort());
  });

  it('marks exactly the routes the gateways let through as public, and only those need no token', () => {
    const routes = documentedRoutes();
    const publicRoutes = routes.filter((route) => route.public).map((route) => `${route.method} ${route.path}`);
    const withoutToken = documentedOperations().filter((operation) => {
      const [method, path] = operation.split(' ') as [string, string];
      return document.paths[path]![method.toLowerCase()]!.security?.length === 0;
    });

    expect(publicRoutes.sort()).toEqual([...PUBLIC_ROUTE_KEYS].sort());
    expect(withoutToken.sort()).toEqual([...PUBLIC_ROUTE_KEYS].sort());
  });
});

describe('GET /openapi.json', () => {
  /** The openapi function's own handler module, as Lambda runs it: it reads no variable and makes no client. */
  const openApiHandler = async () => (await import('../../functions/api/openapi-handler.ts')).handler;
  const invoke = async (event: HttpEvent) => (await openApiHandler())(event, lambdaContext('openapi-test', 10_000));

  it('answers the checked-in document through the openapi function, without a token', async () => {
    const result = await invoke(anonymous('GET', '/openapi.json'));

    expect(result.statusCode).toBe(200);
    expect(result.headers['content-type']).toMatch(/^application\/json/);
    expect(result.body).toBe(checkedIn());
  });

  it('serves nothing else from the openapi function', async () => {
    const result = await invoke(anonymous('GET', '/v1/jobs'));

    expect(result.statusCode).toBe(404);
    expect(JSON.parse(result.body as string)).toMatchObject({ code: 'ROUTE_NOT_FOUND' });
  });

  it('takes no rate-limit token in the whole API either', async () => {
    const takes: string[] = [];
    const result = await apiWithoutStore(takes)(anonymous('GET', '/openapi.json'));

    expect(result.body).toBe(checkedIn());
    expect(takes).toEqual([]);
  });

  describe('through the local gateway', () => {
    let gateway: HttpGateway;
    beforeAll(async () => {
      const whole = apiWithoutStore([]);
      const openApi = await openApiHandler();
      const integrations: GatewayIntegrations = { api: whole, workersApi: whole, openApi: (event) => openApi(event as HttpEvent, lambdaContext('openapi-test', 10_000)) };
      gateway = await startHttpGateway({
        handler: integrations,
        verify: async () => {
          throw new Error('no token is valid here');
        },
        port: 0,
        log: () => {},
      });
    });
    afterAll(() => gateway.close());

    it('is public there too, while a /v1 route is not', async () => {
      const description = await fetch(`${gateway.url}/openapi.json`);
      const jobs = await fetch(`${gateway.url}/v1/jobs`);
      const workers = await fetch(`${gateway.url}/v1/workers`);

      expect(description.status).toBe(200);
      expect(await description.text()).toBe(checkedIn());
      expect(jobs.status).toBe(401);
      expect(workers.status).toBe(401);
    });
  });
});
