import * as z from 'zod';
import type { ResponseConfig } from '@asteasolutions/zod-to-openapi';
import { LIMITS } from '../core/job.ts';
import { ErrorBodySchema, ERROR_CODES, MAX_BODY_BYTES, statusOf, type ErrorCode } from './http.ts';
import type { Route } from './router.ts';
import { EXAMPLE_JOB_ID } from './examples.ts';
import { DEFAULT_TENANT_RATE_LIMIT } from './tenant-rate-limit.ts';

/**
 * What each error code means, for the OpenAPI document. Its status is http.ts's (statusOf): this says only why. A
 * Record over ErrorCode, so a code added to the status table does not compile until it is described here.
 */
export const ERROR_DESCRIPTIONS: Record<ErrorCode, string> = {
  VALIDATION_ERROR: 'The request does not match its schema: `details.issues` lists each failing field (`path`, `message`, `code`)',
  INVALID_CURSOR: 'The cursor was not given out by this list with these filters: start again without it',
  FORBIDDEN: "The token carries no valid tenant claim, or the caller's roles do not allow this",
  JOB_NOT_FOUND: "No such job in the caller's tenant; another tenant's job answers the same",
  JOB_NOT_CANCELLABLE: 'The job has ended: it can no longer be cancelled',
  JOB_NOT_RETRYABLE: 'Only a FAILED or DEAD_LETTERED job can be retried',
  ILLEGAL_TRANSITION: "The job's status does not allow this change",
  CONCURRENT_MODIFICATION: 'Other requests kept changing the job at the same moment: try again',
  IDEMPOTENCY_KEY_REUSED: 'This Idempotency-Key was already used with another body; `details.jobId` is the job it created',
  SPEC_TOO_LARGE: `\`command\`, \`args\` and \`env\` together take more than ${LIMITS.dispatchPayloadBytes} bytes as JSON (they travel in the job's saga state)`,
  WORKER_NOT_FOUND: 'No such worker',
  UNKNOWN_WORKER_CLASS: 'No worker class of this name; `details.known` lists them',
  UNKNOWN_AMI_NAME: 'The class has no AMI of this name; `details.known` lists them',
  UNKNOWN_INSTANCE_TYPE: 'The class does not allow this instance type; `details.known` lists those it does',
  FLEET_AT_MAXIMUM: 'The class already has its maximum of active workers',
  WORKER_STATE_CONFLICT: "The worker's state does not allow this (e.g. it has ended)",
  MONITORING_NOT_APPLICABLE: 'The worker is no EC2 instance (the local runtime): it has no detailed monitoring to switch',
  METRICS_UNAVAILABLE: 'Worker metrics cannot be collected where this request was served',
  WORKER_CONFLICT: 'Other requests kept changing the worker at the same moment: try again',
  ILLEGAL_WORKER_TRANSITION: "The worker's state does not allow this change",
  MALFORMED_PATH: 'The path holds an invalid percent-escape',
  MALFORMED_JSON: 'The body is not valid JSON',
  BODY_REQUIRED: 'This request needs a JSON body',
  INVALID_IDEMPOTENCY_KEY: 'Idempotency-Key must be 1-255 printable ASCII characters',
  UNAUTHORIZED: 'No bearer token, or one that is not valid (expired, forged, for another audience)',
  ROUTE_NOT_FOUND: 'No route has this path',
  METHOD_NOT_ALLOWED: 'The path exists, not with this method: the `Allow` header (and `details.allow`) lists those it has',
  PAYLOAD_TOO_LARGE: `The body is larger than ${MAX_BODY_BYTES} bytes`,
  UNSUPPORTED_MEDIA_TYPE: 'A body that is not `application/json` (or `application/*+json`)',
  RATE_LIMITED: "The tenant's request rate is over its limit: wait `Retry-After` seconds",
  INTERNAL_ERROR: 'Something failed on our side; the request may be retried',
  STORE_UNREACHABLE: 'The job store does not answer',
};

/** The codes every route of a kind answers, beyond those it names (RouteDoc.errors). */
export function routeErrors(route: Route): ErrorCode[] {
  const { doc } = route;
  const codes = new Set<ErrorCode>(doc.errors ?? []);
  const add = (...more: ErrorCode[]) => more.forEach((code) => codes.add(code));
  if (!route.public) add('UNAUTHORIZED', 'FORBIDDEN', 'RATE_LIMITED');
  if (route.path.includes('{')) add('MALFORMED_PATH');
  if (doc.query) add('VALIDATION_ERROR');
  if (doc.body) add('VALIDATION_ERROR', 'MALFORMED_JSON', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE');
  if (doc.body?.required) add('BODY_REQUIRED');
  add('INTERNAL_ERROR');
  // In the table's order, so the document does not change with the order a route names its codes in.
  return ERROR_CODES.filter((code) => codes.has(code));
}

const headerOf = (description: string, schema: z.ZodType = z.string()) => schema.meta({ description });

/** Headers that go with an error status. */
const ERROR_HEADERS: Partial<Record<number, z.ZodObject>> = {
  401: z.object({ 'WWW-Authenticate': headerOf('`Bearer`, with `error="invalid_token"` when a token was refused') }),
  429: z.object({ 'Retry-After': headerOf('Seconds to wait before trying again', z.string().regex(/^[1-9][0-9]*$/)) }),
};

/**
 * API Gateway's own refusals in AWS, before the API sees the request: its JWT authorizer's 401 and its stage
 * throttle's 429 (the local gateway answers both with Error). Not the API's shape, so declared here, for the document.
 */
export const GatewayErrorSchema = z
  .object({ message: z.string().meta({ example: 'Unauthorized' }) })
  .meta({ id: 'GatewayError', description: "API Gateway's own answer (AWS only): a refused token, or the stage's throttle" });

/** Statuses at which API Gateway may answer instead of the API. */
const GATEWAY_STATUSES = new Set([401, 429]);

const STAGE_THROTTLE: ResponseConfig = {
  description: "In AWS: over the stage's throttle, API Gateway answers before the API (no `Retry-After`)",
  content: { 'application/json': { schema: GatewayErrorSchema, example: { message: 'Too Many Requests' } } },
};

/** One response per status the route's codes map to; each names its codes and points at their examples. */
export function errorResponses(route: Route): Record<number, ResponseConfig> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of routeErrors(route)) byStatus.set(statusOf(code), [...(byStatus.get(statusOf(code)) ?? []), code]);
  const responses: Record<number, ResponseConfig> = Object.fromEntries(
    [...byStatus].map(([status, group]) => [
      status,
      {
        description: group.map((code) => `\`${code}\`: ${ERROR_DESCRIPTIONS[code]}`).join('; '),
        ...(ERROR_HEADERS[status] ? { headers: ERROR_HEADERS[status] } : {}),
        content: {
          'application/json': {
            schema: GATEWAY_STATUSES.has(status) ? z.union([ErrorBodySchema, GatewayErrorSchema]) : ErrorBodySchema,
            examples: Object.fromEntries(group.map((code) => [code, { $ref: `#/components/examples/${code}` }])),
          },
        },
      },
    ]),
  );
  // Public routes have no tenant limit, but the stage's throttle covers every route.
  if (route.public) responses[429] = STAGE_THROTTLE;
  return responses;
}

/** `details` worth showing in an example: those a client acts on. */
const EXAMPLE_DETAILS: Partial<Record<ErrorCode, Record<string, unknown>>> = {
  VALIDATION_ERROR: { issues: [{ path: 'timeoutSeconds', message: 'Too big: expected number to be <=86400', code: 'too_big' }] },
  RATE_LIMITED: { limit: { burst: DEFAULT_TENANT_RATE_LIMIT.burst, requestsPerSecond: DEFAULT_TENANT_RATE_LIMIT.refillPerSecond }, retryAfterSeconds: 1 },
  IDEMPOTENCY_KEY_REUSED: { jobId: EXAMPLE_JOB_ID },
};

/** The example of an error code, once in the document's components. */
export function errorExample(code: ErrorCode) {
  return { summary: `${statusOf(code)} ${code}`, value: { code, message: ERROR_DESCRIPTIONS[code], details: EXAMPLE_DETAILS[code] ?? {} } };
}

/** The catalogue, as a Markdown table for the document's description. */
export function errorCatalogue(): string {
  const rows = [...ERROR_CODES]
    .sort((a, b) => statusOf(a) - statusOf(b) || a.localeCompare(b))
    .map((code) => `| \`${code}\` | ${statusOf(code)} | ${ERROR_DESCRIPTIONS[code]} |`);
  return ['| Code | Status | Meaning |', '|---|---|---|', ...rows].join('\n');
}
