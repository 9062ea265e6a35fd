import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { BaseResolver, lintDocument, loadConfig, makeDocumentFromString } from '@redocly/openapi-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi } from '../../functions/api/app.ts';
import { documentationDeps, documentedRoutes } from '../../functions/api/documented-routes.ts';
import type { HttpEvent } from '../../functions/api/http.ts';
import { openApiDocument, serializeOpenApi } from '../../functions/api/openapi.ts';
import { Router } from '../../functions/api/router.ts';
import { TenantRateLimit } from '../../functions/api/tenant-rate-limit.ts';
import { PUBLIC_ROUTE_KEYS } from '../../functions/declarations/public-routes.ts';
import { startHttpGateway, type HttpGateway } from '../../local/http-gateway.ts';

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

  it('describes every route the router serves, and nothing else', () => {
    const routes = documentedRoutes();
    const router = new Router(routes);
    const served = routes.map((route) => `${route.method} ${route.path}`);

    expect(documentedOperations().sort()).toEqual([...served].sort());
    expect(new Set(served).size).toBe(served.length);
    // Each is reachable: a concrete path of its template reaches that very route's handler.
    for (const route of routes) {
      const path = route.path.replace(/\{\w+\}/g, 'x');
      expect(router.match(route.method, path).route.handle).toBe(route.handle);
    }
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
  it('answers the checked-in document through the API handler, without a token or a rate-limit token', async () => {
    const takes: string[] = [];
    const api = apiWithoutStore(takes);

    const result = await api(anonymous('GET', '/openapi.json'));

    expect(result.statusCode).toBe(200);
    expect(result.headers['content-type']).toMatch(/^application\/json/);
    expect(result.body).toBe(checkedIn());
    expect(takes).toEqual([]);
  });

  describe('through the local gateway', () => {
    let gateway: HttpGateway;
    beforeAll(async () => {
      gateway = await startHttpGateway({
        handler: apiWithoutStore([]),
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

      expect(description.status).toBe(200);
      expect(await description.text()).toBe(checkedIn());
      expect(jobs.status).toBe(401);
    });
  });
});
