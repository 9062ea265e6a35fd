import type * as z from 'zod';
import { ApiErrorBodySchema } from './schemas.ts';

/** An API error as the API states it (`{code, message, details}`), or one the console names for what it saw. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export type TokenSource = () => string | undefined;

let currentToken: TokenSource = () => undefined;
let onUnauthorized: () => void = () => {};

/** Where requests take their bearer token from, and what a 401 triggers (the session asks to sign in again). */
export function configureClient(token: TokenSource, unauthorized: () => void): void {
  currentToken = token;
  onUnauthorized = unauthorized;
}

export function authHeaders(): Record<string, string> {
  const token = currentToken();
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** The API's error body, or an error that says what came instead of one. */
export async function errorOf(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => '');
  try {
    const body = ApiErrorBodySchema.parse(JSON.parse(text));
    return new ApiError(response.status, body.code, body.message, body.details);
  } catch {
    return new ApiError(response.status, `HTTP_${response.status}`, `The API answered ${response.status} ${response.statusText} without an error body`, text ? { body: text.slice(0, 500) } : {});
  }
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  query?: Record<string, string | undefined>;
  /** Headers of the call itself (an Idempotency-Key); the token and content type are added here. */
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** Calls the API on this origin with the session's token and checks the answer against `schema`. */
export async function api<T extends z.ZodType>(path: string, schema: T, options: RequestOptions = {}): Promise<z.output<T>> {
  const query = new URLSearchParams(Object.entries(options.query ?? {}).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== ''));
  const url = query.size ? `${path}?${query}` : path;
  let response: Response;
  try {
    response = await fetch(url, {
      method: options.method ?? 'GET',
      headers: { ...options.headers, ...authHeaders(), ...(options.body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw new ApiError(0, 'NETWORK_ERROR', `The API could not be reached: ${(error as Error).message}`);
  }
  if (!response.ok) {
    const error = await errorOf(response);
    if (response.status === 401) onUnauthorized();
    throw error;
  }
  const parsed = schema.safeParse(await response.json());
  if (!parsed.success) {
    throw new ApiError(response.status, 'UNEXPECTED_RESPONSE', `The answer of ${path} is not what the console expects`, {
      issues: parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`),
    });
  }
  return parsed.data;
}
