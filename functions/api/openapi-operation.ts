import type { ResponseConfig, RouteConfig } from '@asteasolutions/zod-to-openapi';
import type * as z from 'zod';
import { errorResponses } from './openapi-errors.ts';
import type { ResponseDoc } from './route-doc.ts';
import type { Route } from './router.ts';

/** The name of the bearer JWT scheme in the document's components. */
export const BEARER_SCHEME = 'bearerJwt';

/** A route as zod-to-openapi registers it: its own documentation, plus what every route of its kind answers. */
export function operationOf(route: Route): RouteConfig {
  const { doc } = route;
  const request: NonNullable<RouteConfig['request']> = {};
  if (doc.params) request.params = doc.params;
  if (doc.query) request.query = doc.query;
  if (doc.headers) request.headers = doc.headers;
  if (doc.body) {
    checkExample(doc.body.schema, doc.body.example, `${route.method} ${route.path} request body`);
    request.body = {
      required: doc.body.required,
      ...(doc.body.description ? { description: doc.body.description } : {}),
      content: { 'application/json': { schema: doc.body.schema, ...(doc.body.example === undefined ? {} : { example: doc.body.example }) } },
    };
  }
  const successes = Object.entries(doc.responses).map(([status, response]) => [status, successResponse(route, status, response)] as const);
  return {
    method: route.method.toLowerCase() as RouteConfig['method'],
    path: route.path,
    operationId: doc.operationId,
    summary: doc.summary,
    ...(description(route) ? { description: description(route) } : {}),
    tags: [doc.tag],
    // Public routes opt out of the document-wide bearer requirement.
    ...(route.public ? { security: [] } : {}),
    ...(doc.roles ? { 'x-roles': doc.roles.map((role) => role.name) } : {}),
    ...(Object.keys(request).length > 0 ? { request } : {}),
    responses: { ...Object.fromEntries(successes), ...errorResponses(route) },
  };
}

function description(route: Route): string | undefined {
  const { doc } = route;
  const roles = doc.roles?.map((role) => `\`${role.name}\` (${role.description})`).join('; ');
  const parts = [doc.description, roles ? `**Roles:** ${roles}.` : undefined, route.public ? 'Needs no token.' : undefined];
  return parts.filter(Boolean).join('\n\n') || undefined;
}

function successResponse(route: Route, status: string, response: ResponseDoc): ResponseConfig {
  const bodies: [string, { body: z.ZodType; example?: unknown }][] = [
    ...(response.body ? [[response.mediaType ?? 'application/json', { body: response.body, example: response.example }] as [string, { body: z.ZodType; example?: unknown }]] : []),
    ...Object.entries(response.also ?? {}),
  ];
  const content = bodies.map(([mediaType, { body, example }]) => {
    checkExample(body, example, `${route.method} ${route.path} ${status} ${mediaType}`);
    return [mediaType, { schema: body, ...(example === undefined ? {} : { example }) }] as const;
  });
  return {
    description: response.description,
    ...(response.headers ? { headers: response.headers } : {}),
    ...(content.length > 0 ? { content: Object.fromEntries(content) } : {}),
  };
}

/** An example the code could not produce would teach clients the wrong thing: refuse to document it. */
function checkExample(schema: z.ZodType, example: unknown, where: string): void {
  if (example === undefined) return;
  const result = schema.safeParse(example);
  if (!result.success) throw new Error(`The example of ${where} does not match its schema: ${result.error.message}`);
}
