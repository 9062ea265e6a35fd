import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import * as z from 'zod';
import { DomainError } from '../core/errors.ts';

export type HttpEvent = APIGatewayProxyEventV2;
export type HttpResult = APIGatewayProxyStructuredResultV2 & { statusCode: number; headers: Record<string, string> };

export const MAX_BODY_BYTES = 256 * 1024;

/** An error that already knows its HTTP status; raised by the edge, never by the domain. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}

/** Every error the API answers has this body. */
export const ErrorBodySchema = z
  .object({
    code: z.string().meta({ description: 'Stable, machine-readable; the catalogue is in the API description' }),
    message: z.string().meta({ description: 'For people: may change between versions' }),
    details: z.record(z.string(), z.unknown()).meta({ description: 'Facts about this error, by code (the failing fields of a VALIDATION_ERROR, the limit of a RATE_LIMITED, ...)' }),
  })
  .meta({ id: 'Error', description: 'An error: `code` says what happened, `details` the facts that go with it' });
export type ErrorBody = z.output<typeof ErrorBodySchema>;

export function errorBody(code: string, message: string, details: Record<string, unknown> = {}): ErrorBody {
  return { code, message, details };
}

/**
 * Error code → HTTP status: the domain's codes and the edge's own. The only place the two vocabularies meet, and the
 * one the OpenAPI document reads (functions/api/openapi-errors.ts describes each code).
 */
const STATUS_BY_CODE = {
  VALIDATION_ERROR: 400,
  INVALID_CURSOR: 400,
  FORBIDDEN: 403,
  JOB_NOT_FOUND: 404,
  JOB_NOT_CANCELLABLE: 409,
  JOB_NOT_RETRYABLE: 409,
  ILLEGAL_TRANSITION: 409,
  CONCURRENT_MODIFICATION: 409,
  IDEMPOTENCY_KEY_REUSED: 422,
  SPEC_TOO_LARGE: 413,
  WORKER_NOT_FOUND: 404,
  UNKNOWN_WORKER_CLASS: 422,
  UNKNOWN_AMI_NAME: 422,
  UNKNOWN_INSTANCE_TYPE: 422,
  FLEET_AT_MAXIMUM: 409,
  WORKER_STATE_CONFLICT: 409,
  MONITORING_NOT_APPLICABLE: 409,
  METRICS_UNAVAILABLE: 503,
  WORKER_CONFLICT: 409,
  ILLEGAL_WORKER_TRANSITION: 409,
  // The edge's own: raised as HttpError (httpError below), never by the domain.
  MALFORMED_PATH: 400,
  MALFORMED_JSON: 400,
  BODY_REQUIRED: 400,
  INVALID_IDEMPOTENCY_KEY: 400,
  UNAUTHORIZED: 401,
  ROUTE_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  INTERNAL_ERROR: 500,
  STORE_UNREACHABLE: 503,
} as const satisfies Record<string, number>;

export type ErrorCode = keyof typeof STATUS_BY_CODE;
export const ERROR_CODES = Object.keys(STATUS_BY_CODE) as [ErrorCode, ...ErrorCode[]];

export function statusOf(code: ErrorCode): number {
  return STATUS_BY_CODE[code];
}

/** An HttpError whose status is the table's, so no throw site states a status of its own. */
export function httpError(code: ErrorCode, message: string, details: Record<string, unknown> = {}, headers: Record<string, string> = {}): HttpError {
  return new HttpError(STATUS_BY_CODE[code], code, message, details, headers);
}

export function toErrorResult(error: unknown): HttpResult | undefined {
  if (error instanceof HttpError) return json(error.statusCode, errorBody(error.code, error.message, error.details), error.headers);
  if (error instanceof z.ZodError) return json(statusOf('VALIDATION_ERROR'), errorBody('VALIDATION_ERROR', 'The request is not valid', { issues: zodIssues(error) }));
  if (error instanceof DomainError) {
    const status = (STATUS_BY_CODE as Record<string, number | undefined>)[error.code];
    if (status) return json(status, errorBody(error.code, error.message, error.details));
  }
  return undefined;
}

export function zodIssues(error: z.ZodError) {
  return error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message, code: issue.code }));
}

export function header(event: HttpEvent, name: string): string | undefined {
  return event.headers?.[name.toLowerCase()] ?? undefined;
}

function isJsonContentType(value: string | undefined): boolean {
  if (!value) return false;
  const mediaType = value.split(';')[0]!.trim().toLowerCase();
  return mediaType === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(mediaType);
}

/** Decodes and parses a JSON body with the limits API clients expect: 413 over size, 415 not JSON, 400 malformed. */
export function readJsonBody(event: HttpEvent, options: { required: boolean }): unknown {
  const raw = event.body ?? '';
  const bytes = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  if (bytes.length > MAX_BODY_BYTES) {
    throw httpError('PAYLOAD_TOO_LARGE', `The request body is larger than ${MAX_BODY_BYTES} bytes`, { limitBytes: MAX_BODY_BYTES, receivedBytes: bytes.length });
  }
  if (bytes.length === 0) {
    if (options.required) throw httpError('BODY_REQUIRED', 'This request needs a JSON body');
    return undefined;
  }
  const contentType = header(event, 'content-type');
  if (!isJsonContentType(contentType)) {
    throw httpError('UNSUPPORTED_MEDIA_TYPE', 'The request body must be JSON (Content-Type: application/json)', { contentType: contentType ?? null });
  }
  const text = bytes.toString('utf8');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw httpError('MALFORMED_JSON', 'The request body is not valid JSON', { reason: (error as Error).message });
  }
}
