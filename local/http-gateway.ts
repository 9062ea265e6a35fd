import { randomBytes } from 'node:crypto';
import { createServer, validateHeaderName, validateHeaderValue, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  APIGatewayEventRequestContextJWTAuthorizer,
  APIGatewayProxyEventV2,
  APIGatewayProxyEventV2WithJWTAuthorizer,
  APIGatewayProxyResultV2,
} from 'aws-lambda';
import type { JWTPayload } from 'jose';
// The gateway's own answers use the API's error shape, so a client handles one shape whoever answered.
import { errorBody } from '../functions/api/http.ts';
import { httpFunctionFor, type HttpFunctionName } from '../functions/declarations/http-functions.ts';
import { PUBLIC_ROUTE_KEYS, routeKey } from '../functions/declarations/public-routes.ts';
import type { StaticSite } from './console-site.ts';

/** API Gateway's own payload limit; the api handler enforces its smaller one itself, as in AWS. */
export const GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024;
/** HTTP API's maximum integration timeout. */
const INTEGRATION_TIMEOUT_MS = 30_000;

export type GatewayHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyResultV2>;

/** A handler per HTTP function of HTTP_FUNCTIONS, as the deployed API integrates one Lambda per function. */
export type GatewayIntegrations = Readonly<Record<HttpFunctionName, GatewayHandler>>;

export interface HttpGatewayOptions {
  /**
   * One handler behind every path, or one per HTTP function, picked by the routes HTTP_FUNCTIONS declares as API
   * Gateway picks them (the most specific route); a path no route matches is a 404 without a token, as in AWS.
   */
  handler: GatewayHandler | GatewayIntegrations;
  /** Verifies a bearer token and returns its claims; throws when the token must be refused. */
  verify: (token: string) => Promise<JWTPayload>;
  /** 0 picks a free port. */
  port: number;
  log: (message: string) => void;
  /** Routes (`METHOD /path`, exact) that have no authorizer; default those of the deployed API (PUBLIC_ROUTES). */
  publicRoutes?: readonly string[];
  maxBodyBytes?: number;
  timeoutMs?: number;
  /** Serves `GET /metrics` (Prometheus text) from the gateway itself, before any authorizer. */
  metrics?: () => Promise<{ contentType: string; body: string }>;
  /**
   * Static files the gateway serves itself, before any authorizer (the console, local/console-site.ts): answers a
   * request it knows, undefined for the rest, which go on to the handler.
   */
  staticSite?: StaticSite;
}

export interface HttpGateway {
  url: string;
  port: number;
  /** Stops accepting, lets in-flight requests finish briefly, then closes every connection, keep-alive ones too. */
  close(): Promise<void>;
}

export class PortInUseError extends Error {
  override name = 'PortInUseError';
  constructor(readonly port: number) {
    super(`Port ${port} on 127.0.0.1 is already in use: stop whatever listens there or choose another one with PORT=<port>.`);
  }
}

/** A failure the gateway itself answers, before or instead of invoking the handler. */
class GatewayError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

class ClientGoneError extends Error {}

/**
 * A local stand-in for an API Gateway HTTP API with a JWT authorizer and Lambda proxy integrations (payload format
 * 2.0): each request becomes the event AWS would send, so the very same handlers run here and in AWS.
 */
export async function startHttpGateway(options: HttpGatewayOptions): Promise<HttpGateway> {
  const publicRoutes = new Set(options.publicRoutes ?? PUBLIC_ROUTE_KEYS);
  const maxBodyBytes = options.maxBodyBytes ?? GATEWAY_MAX_BODY_BYTES;
  let closing = false;

  const server = createServer((req, res) => {
    serve(req, res).catch((error: unknown) => {
      options.log(`gateway: could not answer ${req.method} ${pathOf(req)}: ${(error as Error).stack ?? String(error)}`);
      if (!res.headersSent) res.destroy();
    });
  });
  // Malformed HTTP never reaches the request listener; answer it in our error shape instead of Node's plain text.
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (socket.writable && error.code !== 'ECONNRESET') {
      const body = JSON.stringify(errorBody('BAD_REQUEST', 'The request is not valid HTTP'));
      socket.end(`HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    } else socket.destroy();
  });

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomBytes(10).toString('base64');
    res.setHeader('apigw-requestid', requestId);
    try {
      const target = parseTarget(req.url ?? '');
      if (!target) throw new GatewayError(400, 'BAD_REQUEST', 'The request target is not a valid path');
      const declared = Number(req.headers['content-length'] ?? 0);
      if (declared > maxBodyBytes) throw tooLarge(maxBodyBytes);
      if (options.metrics && req.method === 'GET' && target.rawPath === '/metrics') {
        // A Prometheus scrape target, so no token: the gateway listens on 127.0.0.1 only, and the figures are
        // aggregates (classes, priorities, reasons), never a tenant's jobs. The deployed API has no such route.
        const { contentType, body } = await withTimeout(options.metrics(), options.timeoutMs ?? INTEGRATION_TIMEOUT_MS);
        return respond(res, { statusCode: 200, headers: { 'content-type': contentType }, body });
      }
      const page = await options.staticSite?.({ method: req.method ?? 'GET', path: target.rawPath, host: req.headers.host });
      if (page) return respond(res, page);
      const handler = integrationFor(req.method ?? 'GET', target.rawPath);
      const isPublic = publicRoutes.has(routeKey({ method: req.method ?? 'GET', path: target.rawPath }));
      const claims = isPublic ? undefined : await authorize(req.headers.authorization);
      const body = await readBody(req, maxBodyBytes);
      const event = toEvent(req, target, body, requestId, claims);
      const result = await withTimeout(handler(event), options.timeoutMs ?? INTEGRATION_TIMEOUT_MS);
      respond(res, result);
    } catch (error) {
      if (error instanceof ClientGoneError) return;
      const failure = error instanceof GatewayError ? error : new GatewayError(500, 'INTERNAL_ERROR', 'The request could not be completed; try again');
      if (failure.status >= 500) {
        // The client gets a stable code and no internals; the operator gets the cause.
        options.log(`gateway: ${req.method} ${pathOf(req)} failed (request ${requestId}): ${(error as Error).stack ?? String(error)}`);
      }
      if (failure.status === 413) {
        // Take no more of the body: close after the answer. The short linger lets the client read the 413 before
        // the reset that closing a socket with unread data causes.
        res.setHeader('connection', 'close');
        res.once('finish', () => setTimeout(() => req.socket.destroy(), 1000).unref());
      }
      respond(res, { statusCode: failure.status, headers: { ...JSON_HEADERS, ...failure.headers }, body: JSON.stringify(errorBody(failure.code, failure.message)) });
    }
  }

  function respond(res: ServerResponse, result: APIGatewayProxyResultV2): void {
    // While closing, end each keep-alive connection with its answer so that close() need not cut anyone off.
    if (res.headersSent || res.destroyed) return;
    if (closing) res.setHeader('connection', 'close');
    writeResult(res, result);
  }

  /** Route selection comes before any authorizer in API Gateway: an unrouted path is a 404 even without a token. */
  function integrationFor(method: string, path: string): GatewayHandler {
    const { handler } = options;
    if (typeof handler === 'function') return handler;
    const selected = httpFunctionFor(method, path);
    if (!selected) throw new GatewayError(404, 'ROUTE_NOT_FOUND', `No route for ${method} ${path}`);
    return handler[selected.name];
  }

  async function authorize(header: string | undefined): Promise<JWTPayload> {
    // Like the HTTP API authorizer, accept the token with or without the `Bearer` prefix.
    const token = header?.trim().replace(/^Bearer\s+/i, '');
    if (!token) throw new GatewayError(401, 'UNAUTHORIZED', 'A bearer token is required', { 'www-authenticate': 'Bearer' });
    try {
      return await options.verify(token);
    } catch (error) {
      const reason = (error as { code?: string }).code === 'ERR_JWT_EXPIRED' ? 'the token has expired' : 'the token is not valid';
      throw new GatewayError(401, 'UNAUTHORIZED', `The bearer token was refused: ${reason}`, {
        'www-authenticate': `Bearer error="invalid_token" error_description="${reason}"`,
      });
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(error.code === 'EADDRINUSE' ? new PortInUseError(options.port) : error));
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close() {
      closed ??= new Promise<void>((resolve) => {
        closing = true;
        server.close(() => resolve());
        server.closeIdleConnections();
        // In-flight requests get a moment to finish; then no connection may keep the process alive.
        setTimeout(() => server.closeAllConnections(), 2000).unref();
      });
      return closed;
    },
  };
}

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };

/** The path for log lines; the query is left out since it may carry values the client meant to keep private. */
const pathOf = (req: IncomingMessage) => (req.url ?? '').split('?')[0];

function tooLarge(limit: number) {
  return new GatewayError(413, 'PAYLOAD_TOO_LARGE', `The request body is larger than the gateway's limit of ${limit} bytes`);
}

/** Splits the request target into raw path and raw query, undecoded: the api's router decodes path parameters itself. */
export function parseTarget(url: string): { rawPath: string; rawQueryString: string } | undefined {
  let target = url;
  // Absolute form (`GET http://host/path`) is legal HTTP; only its path matters here.
  const absolute = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(target);
  if (absolute) target = target.slice(absolute[0].length) || '/';
  if (!target.startsWith('/')) return undefined;
  const hash = target.indexOf('#');
  if (hash >= 0) target = target.slice(0, hash);
  const question = target.indexOf('?');
  return question < 0 ? { rawPath: target, rawQueryString: '' } : { rawPath: target.slice(0, question), rawQueryString: target.slice(question + 1) };
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        chunks.length = 0;
        req.pause();
        reject(tooLarge(limit));
      } else chunks.push(chunk);
    });
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', () => reject(new ClientGoneError()));
    req.once('close', () => {
      if (!req.complete) reject(new ClientGoneError());
    });
  });
}

/** Media types API Gateway passes as text; any other body arrives base64-encoded with `isBase64Encoded: true`. */
function isTextual(contentType: string | undefined): boolean {
  const type = contentType?.split(';')[0]!.trim().toLowerCase() ?? '';
  return /^text\//.test(type) || /^application\/(json|xml|javascript|x-yaml|yaml|x-www-form-urlencoded)$/.test(type) || /\+(json|xml)$/.test(type);
}

function toEvent(req: IncomingMessage, target: { rawPath: string; rawQueryString: string }, body: Buffer, requestId: string, claims?: JWTPayload) {
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!.toLowerCase();
    const value = req.rawHeaders[i + 1]!;
    // Payload 2.0 moves cookies to their own field; repeated headers are joined with commas.
    if (name === 'cookie') cookies.push(...value.split(';').map((c) => c.trim()).filter(Boolean));
    else headers[name] = name in headers ? `${headers[name]},${value}` : value;
  }
  const sourceIp = (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
  headers['x-forwarded-for'] ??= sourceIp;
  headers['x-forwarded-proto'] ??= 'http';
  headers['x-forwarded-port'] ??= String(req.socket.localPort ?? '');

  const query: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(target.rawQueryString)) query[key] = key in query ? `${query[key]},${value}` : value;

  const now = new Date();
  const domainName = headers.host ?? `127.0.0.1:${req.socket.localPort}`;
  const text = isTextual(headers['content-type']);
  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey: '$default',
    rawPath: target.rawPath,
    rawQueryString: target.rawQueryString,
    ...(cookies.length ? { cookies } : {}),
    headers,
    ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName,
      domainPrefix: domainName.split('.')[0]!,
      http: { method: req.method ?? 'GET', path: target.rawPath, protocol: `HTTP/${req.httpVersion}`, sourceIp, userAgent: headers['user-agent'] ?? '' },
      requestId,
      routeKey: '$default',
      stage: '$default',
      time: apiGatewayTime(now),
      timeEpoch: now.getTime(),
    },
    ...(body.length ? { body: body.toString(text ? 'utf8' : 'base64') } : {}),
    isBase64Encoded: body.length > 0 && !text,
  };
  if (claims) (event as APIGatewayProxyEventV2WithJWTAuthorizer).requestContext.authorizer = jwtAuthorizer(claims);
  return event;
}

/** The authorizer hands claims over as strings, arrays and objects in Go's notation: `[admin operator]`. */
export function stringifyClaim(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stringifyClaim).join(' ')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1));
    return `map[${entries.map(([k, v]) => `${k}:${stringifyClaim(v)}`).join(' ')}]`;
  }
  return String(value);
}

function jwtAuthorizer(claims: JWTPayload): APIGatewayEventRequestContextJWTAuthorizer {
  const scope = typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : null;
  return {
    principalId: '',
    integrationLatency: 0,
    jwt: { claims: Object.fromEntries(Object.entries(claims).map(([k, v]) => [k, stringifyClaim(v)])), scopes: scope },
  };
}

/** `12/Mar/2020:19:03:58 +0000`, the format of `requestContext.time`. */
function apiGatewayTime(date: Date): string {
  // toUTCString(): `Thu, 12 Mar 2020 19:03:58 GMT`.
  const [, day, month, year, time] = date.toUTCString().split(' ');
  return `${day}/${month}/${year}:${time} +0000`;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new GatewayError(503, 'SERVICE_UNAVAILABLE', `The integration did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Writes a payload 2.0 result; a bare string or object without statusCode is a 200 JSON body, as in AWS. */
function writeResult(res: ServerResponse, result: APIGatewayProxyResultV2): void {
  const structured = typeof result === 'object' && result !== null && 'statusCode' in result;
  const statusCode = structured ? (result.statusCode ?? 200) : 200;
  const body = structured ? (result.body ?? '') : typeof result === 'string' ? result : (JSON.stringify(result) ?? '');
  const headers: Record<string, string | string[]> = structured ? {} : { ...JSON_HEADERS };
  for (const [name, value] of Object.entries(structured ? (result.headers ?? {}) : {})) {
    validateHeaderName(name);
    validateHeaderValue(name, String(value));
    headers[name.toLowerCase()] = String(value);
  }
  if (structured && result.cookies?.length) headers['set-cookie'] = result.cookies;
  const bytes = Buffer.from(body, structured && result.isBase64Encoded ? 'base64' : 'utf8');
  res.writeHead(statusCode, { ...headers, 'content-length': String(bytes.length) });
  res.end(bytes);
}
