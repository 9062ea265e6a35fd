import { apiErrorOf, ForgeflowNetworkError } from './errors.ts';
import { withRetry, type RetryOptions } from './retry.ts';

export interface TransportOptions {
  /** The API's base URL, e.g. `http://127.0.0.1:3000` or the HTTP API's invoke URL. */
  baseUrl: string;
  /** The bearer token, or a function that returns a fresh one for every request (tokens expire). */
  token: string | (() => string | Promise<string>);
  retry?: RetryOptions;
  /** Defaults to the global fetch (Node 20). */
  fetch?: typeof fetch;
}

export type QueryValue = string | number | boolean | undefined;

export interface RequestOptions {
  query?: Record<string, QueryValue>;
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal | undefined;
}

export interface ApiResponse<T> {
  status: number;
  headers: Headers;
  body: T;
}

/** One place that knows URLs, auth, JSON, error bodies and the retry rule; the resource methods stay one-liners. */
export class Transport {
  private readonly baseUrl: string;

  constructor(private readonly options: TransportOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
  }

  /** Sends a JSON request, retrying what can be retried; a non-2xx answer rejects with a ForgeflowApiError. */
  async json<T>(method: string, path: string, request: RequestOptions = {}): Promise<ApiResponse<T>> {
    return withRetry(async () => {
      const response = await this.send(method, path, request);
      if (!response.ok) throw await apiErrorOf(response);
      const text = await response.text().catch((error: unknown) => {
        if (request.signal?.aborted) throw request.signal.reason;
        throw new ForgeflowNetworkError(`The answer from ${this.baseUrl} was cut off: ${describe(error)}`, response.url, { cause: error });
      });
      return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : undefined) as T };
    }, { ...this.options.retry, ...(request.signal ? { signal: request.signal } : {}) });
  }

  /** One request, no retry, the response unread: for streams, whose caller decides what a retry means. */
  async send(method: string, path: string, request: RequestOptions = {}): Promise<Response> {
    const url = this.url(path, request.query);
    const token = typeof this.options.token === 'function' ? await this.options.token() : this.options.token;
    const headers: Record<string, string> = { accept: 'application/json', authorization: `Bearer ${token}`, ...request.headers };
    if (request.body !== undefined) headers['content-type'] = 'application/json';
    try {
      return await (this.options.fetch ?? fetch)(url, {
        method,
        headers,
        ...(request.body !== undefined ? { body: JSON.stringify(request.body) } : {}),
        ...(request.signal ? { signal: request.signal } : {}),
      });
    } catch (error) {
      // An abort is the caller's decision, not a network failure: let it through as it is.
      if (request.signal?.aborted) throw request.signal.reason;
      throw new ForgeflowNetworkError(`Could not reach ${this.baseUrl}: ${describe(error)}`, url, { cause: error });
    }
  }

  private url(path: string, query: Record<string, QueryValue> = {}): string {
    const url = new URL(this.baseUrl + path);
    for (const [name, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(name, String(value));
    return url.toString();
  }
}

/** fetch's TypeError says only "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND, …) is in its cause. */
function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message ?? String(error);
}
