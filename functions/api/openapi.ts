import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { ROLES } from '../core/roles.ts';
import { PUBLIC_ROUTES } from '../declarations/public-routes.ts';
import { MAX_BODY_BYTES } from './http.ts';
import { errorCatalogue, errorExample, routeErrors } from './openapi-errors.ts';
import { BEARER_SCHEME, operationOf } from './openapi-operation.ts';
import { API_TAGS } from './route-doc.ts';
import type { Route } from './router.ts';
import { DEFAULT_TENANT_RATE_LIMIT } from './tenant-rate-limit.ts';

export type OpenApiDocument = ReturnType<OpenApiGeneratorV31['generateDocument']>;

/** The API's version (its paths are `/v1`), not the package's. */
export const API_VERSION = '1.0.0';

const publicPaths = Object.values(PUBLIC_ROUTES)
  .map((route) => `\`${route.path}\``)
  .join(' and ');
const roles = Object.values(ROLES)
  .map((role) => `\`${role.name}\`: ${role.description}`)
  .join('; ');

const DESCRIPTION = `Forgeflow runs jobs (commands) on a fleet of workers, in AWS or on a laptop (\`npm start\`).

## Authentication
Every operation but ${publicPaths} takes \`Authorization: Bearer <JWT>\` with the claims \`sub\`, \
\`tenant\` and \`groups\` (Cognito ID tokens: \`custom:tenant\`, \`cognito:groups\`; \`npm start\` writes local tokens to \
\`.forgeflow/tokens.json\`). A caller only ever sees its own tenant's jobs: another tenant's job answers 404 exactly \
like a missing one. Roles are token groups (${roles}); an operation that needs one says so, and answers 403 FORBIDDEN \
to others.

## Limits
Each tenant may send ${DEFAULT_TENANT_RATE_LIMIT.refillPerSecond} requests a second with bursts of \
${DEFAULT_TENANT_RATE_LIMIT.burst} (a deployment may set others); over it every operation that takes a token answers \
429 RATE_LIMITED with \`Retry-After\`. Request bodies are JSON (415 otherwise) of at most ${MAX_BODY_BYTES} bytes (413).

## Pagination
Lists take \`limit\` and \`cursor\` and answer \`{ items, nextCursor }\`: pass \`nextCursor\` as \`cursor\` for the next \
page; it is null on the last. A cursor is opaque and only valid with the filters it came with (400 INVALID_CURSOR).

## Errors
Every error the API answers is JSON \`{ code, message, details }\` (schema \`Error\`): \`code\` is stable, \`message\` \
is for people. A path no route has answers 404 ROUTE_NOT_FOUND; a known path with another method answers 405 \
METHOD_NOT_ALLOWED with \`Allow\`. In AWS, API Gateway itself refuses a missing or invalid token (401) and requests \
over the stage's throttle (429) with \`{ "message" }\` (schema \`GatewayError\`), before the API sees them.

${errorCatalogue()}`;

/** The OpenAPI 3.1 document of `routes`: the router's own route list, each route carrying its documentation. */
export function openApiDocument(routes: readonly Route[]): OpenApiDocument {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', BEARER_SCHEME, {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'A Cognito ID token in AWS; a local token from `.forgeflow/tokens.json` with `npm start`',
  });
  for (const route of routes) registry.registerPath(operationOf(route));
  const codes = new Set(routes.flatMap(routeErrors));
  for (const code of codes) registry.registerComponent('examples', code, errorExample(code));

  const document = new OpenApiGeneratorV31(registry.definitions, { sortComponents: 'alphabetically' }).generateDocument({
    openapi: '3.1.0',
    info: { title: 'Forgeflow API', version: API_VERSION, description: DESCRIPTION },
    servers: [
      { url: 'https://{apiId}.execute-api.{region}.amazonaws.com', description: 'The deployed HTTP API', variables: { apiId: { default: 'your-api-id' }, region: { default: 'us-east-1' } } },
      { url: 'http://127.0.0.1:{port}', description: '`npm start` (PORT)', variables: { port: { default: '3000' } } },
    ],
    security: [{ [BEARER_SCHEME]: [] }],
    tags: Object.entries(API_TAGS).map(([name, description]) => ({ name, description })),
  });
  describeOtherMethods(document, routes);
  shareSingleCodeResponses(document);
  return canonical(document);
}

type ResponseObject = { content?: Record<string, { examples?: Record<string, unknown> }> } | { $ref: string };
type Responses = NonNullable<NonNullable<OpenApiDocument['components']>['responses']>;

/**
 * An error response that stands for one code (401 UNAUTHORIZED, 429 RATE_LIMITED, ...) is the same wherever it is
 * answered: it goes to `components.responses` under its code, and operations refer to it.
 */
function shareSingleCodeResponses(document: OpenApiDocument): void {
  const shared: Record<string, ResponseObject> = {};
  for (const item of Object.values(document.paths ?? {})) {
    for (const operation of Object.values(item)) {
      if (typeof operation !== 'object' || operation === null || !('responses' in operation)) continue;
      const responses = operation.responses as Record<string, ResponseObject>;
      for (const [status, response] of Object.entries(responses)) {
        const codes = '$ref' in response ? [] : Object.keys(response.content?.['application/json']?.examples ?? {});
        if (Number(status) < 400 || codes.length !== 1) continue;
        const [code] = codes as [string];
        if (shared[code] !== undefined && JSON.stringify(shared[code]) !== JSON.stringify(response)) throw new Error(`The responses of ${code} differ`);
        shared[code] = response;
        responses[status] = { $ref: `#/components/responses/${code}` };
      }
    }
  }
  document.components = { ...document.components, responses: { ...document.components?.responses, ...(shared as Responses) } };
}

/** 405 belongs to no operation: each path says which methods it has, so a client knows what the others answer. */
function describeOtherMethods(document: OpenApiDocument, routes: readonly Route[]): void {
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    const allow = routes.filter((route) => route.path === path).map((route) => route.method);
    item.description = `Other methods answer 405 METHOD_NOT_ALLOWED with \`Allow: ${allow.join(', ')}\`.`;
  }
}

/**
 * The same document for the same routes, whatever order maps were filled in: keys sorted at every level but within
 * schema `properties` (declared order reads better) and at the root (conventional order).
 */
function canonical(document: OpenApiDocument): OpenApiDocument {
  const sort = (value: unknown, keepOrder = false): unknown => {
    if (Array.isArray(value)) return value.map((item) => sort(item));
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value as Record<string, unknown>);
    if (!keepOrder) entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return Object.fromEntries(entries.map(([key, item]) => [key, sort(item, key === 'properties')]));
  };
  // The generator writes sections even when they are empty (no webhooks, no shared parameters): leave those out.
  const { openapi, info, servers, security, tags, paths, components = {}, webhooks, ...rest } = document;
  const filled = Object.fromEntries(Object.entries(components).filter(([, section]) => Object.keys(section ?? {}).length > 0));
  const tail = { ...rest, ...(Object.keys(webhooks ?? {}).length > 0 ? { webhooks } : {}) };
  return sort({ openapi, info, servers, security, tags, paths, components: filled, ...tail }, true) as OpenApiDocument;
}

/** The document as docs/openapi.json holds it: two-space JSON and a final newline. */
export function serializeOpenApi(document: OpenApiDocument): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}
