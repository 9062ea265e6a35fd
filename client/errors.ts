import type { ErrorCode as ApiErrorCode } from '../functions/api/http.ts';

/** Every code the API itself answers with: the keys of STATUS_BY_CODE in functions/api/http.ts. */
export type { ApiErrorCode };

/**
 * A code the API is known to answer with, or any other string: a newer server, or a gateway in front of it (AWS's
 * authorizer answers `{"message":"Unauthorized"}` without a code), may send one this client does not know.
 */
// `string & {}` keeps editor completion for the known codes while still accepting any string.
export type ErrorCode = ApiErrorCode | (string & {});

/** The API answered with an error status. `code`, `message` and `details` come from its `{ code, message, details }` body. */
export class ForgeflowApiError extends Error {
  override readonly name = 'ForgeflowApiError';

  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
    /** How long the server asked us to wait before trying again (`Retry-After`), in milliseconds. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }

  /** Narrows to one known code: `if (ForgeflowApiError.is(e, 'JOB_NOT_FOUND'))`. */
  static is<C extends ApiErrorCode>(error: unknown, code?: C): error is ForgeflowApiError & { code: C } {
    return error instanceof ForgeflowApiError && (code === undefined || error.code === code);
  }
}

/** The request never got an HTTP answer: DNS, refused or reset connection, TLS, or a body cut off. */
export class ForgeflowNetworkError extends Error {
  override readonly name = 'ForgeflowNetworkError';

  constructor(
    message: string,
    readonly url: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The server does not speak a part of the API this client asked for (an older deployment). */
export class ForgeflowUnsupportedError extends Error {
  override readonly name = 'ForgeflowUnsupportedError';
}

/** Builds the error for a non-2xx answer; a body that is not the API's error shape still gives a usable error. */
export async function apiErrorOf(response: Response): Promise<ForgeflowApiError> {
  const text = await response.text().catch(() => '');
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const fields = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const code = typeof fields.code === 'string' ? fields.code : `HTTP_${response.status}`;
  const message = typeof fields.message === 'string' ? fields.message : text.slice(0, 200) || response.statusText || `HTTP ${response.status}`;
  const details = typeof fields.details === 'object' && fields.details !== null ? (fields.details as Record<string, unknown>) : {};
  return new ForgeflowApiError(response.status, code, message, details, retryAfterMs);
}

/** `Retry-After` is either delay-seconds or an HTTP date (RFC 9110 §10.2.3); anything else is ignored. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
