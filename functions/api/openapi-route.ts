import * as z from 'zod';
import { PUBLIC_ROUTES } from '../declarations/public-routes.ts';
import type { Route } from './router.ts';

const OpenApiDocumentSchema = z
  .looseObject({
    openapi: z.string().meta({ example: '3.1.0' }),
    info: z.looseObject({ title: z.string(), version: z.string() }),
    paths: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'OpenApiDocument', description: 'An OpenAPI 3.1 document' });

/**
 * `GET /openapi.json`: the OpenAPI document of `routes()`, the routes of every HTTP function (this one included),
 * served by the openapi function alone. Built at the first request rather than at a cold start: the generator and its
 * library load only when someone asks.
 */
export function openApiRoute(routes: () => readonly Route[]): Route {
  let served: Promise<string> | undefined;
  const build = async () => {
    const { openApiDocument, serializeOpenApi } = await import('./openapi.ts');
    return serializeOpenApi(openApiDocument(routes()));
  };
  return {
    method: PUBLIC_ROUTES.openApi.method,
    path: PUBLIC_ROUTES.openApi.path,
    public: true,
    doc: {
      operationId: 'getOpenApiDocument',
      summary: 'This description of the API',
      description: 'The document docs/openapi.json holds, built from the routes the API serves.',
      tag: 'Platform',
      responses: { 200: { description: 'The OpenAPI 3.1 document', body: OpenApiDocumentSchema } },
    },
    async handle() {
      served ??= build().catch((error: unknown) => {
        served = undefined;
        throw error;
      });
      // The same for every caller and every request of a deployment: caches may keep it a while.
      return { statusCode: 200, headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'public, max-age=300' }, body: await served };
    },
  };
}
