import { request as httpRequest, Agent, type OutgoingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyResultV2 } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { httpFunctionFor, type HttpFunctionName } from '../../functions/declarations/http-functions.ts';
import { GATEWAY_MAX_BODY_BYTES, parseTarget, startHttpGateway, stringifyClaim, type GatewayIntegrations, type HttpGateway } from '../../local/http-gateway.ts';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** node:http rather than fetch: it sends repeated header lines and lets a test control the body stream. */
function send(url: string, options: { method?: string; headers?: OutgoingHttpHeaders; body?: string | Buffer; agent?: Agent } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? 'GET', headers: options.headers, agent: options.agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

const json = (reply: Reply) => JSON.parse(reply.body.toString('utf8')) as Record<string, unknown>;

describe('Local: HTTP gateway', () => {
  let gateway: HttpGateway;
  let events: APIGatewayProxyEventV2[];
  let logged: string[];
  let respond: (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyResultV2>;

  beforeEach(async () => {
    events = [];
    logged = [];
    respond = async () => ({ statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{"ok":true}' });
    gateway = await startHttpGateway({
      port: 0,
      log: (message) => logged.push(message),
      maxBodyBytes: 64 * 1024,
      verify: async (token) => {
        if (token !== 'good-token') throw Object.assign(new Error('bad'), { code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' });
        return { sub: 'u-1', tenant: 't-1', groups: ['admin', 'operator'], exp: 1_900_000_000, meta: { b: 2, a: 'x' } };
      },
      handler: async (event) => {
        events.push(event);
        return respond(event);
      },
    });
  });

  afterEach(async () => {
    await gateway.close();
  });

  const auth = { authorization: 'Bearer good-token' };

  it('turns a request into a payload 2.0 event', async () => {
    // Act
    const reply = await send(`${gateway.url}/v1/jobs/a%20b?x=1&y=hello%20world&x=2`, {
      method: 'POST',
      headers: { ...auth, 'X-Custom': ['one', 'two'], Cookie: 'a=1; b=2', 'Content-Type': 'application/json', 'User-Agent': 'test-agent' },
      body: '{"command":"échо"}',
    });

    // Assess
    expect(reply.status).toBe(200);
    expect(events).toHaveLength(1);
    const event = events[0] as APIGatewayProxyEventV2WithJWTAuthorizer;
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: '$default',
      rawPath: '/v1/jobs/a%20b',
      rawQueryString: 'x=1&y=hello%20world&x=2',
      queryStringParameters: { x: '1,2', y: 'hello world' },
      cookies: ['a=1', 'b=2'],
      body: '{"command":"échо"}',
      isBase64Encoded: false,
    });
    expect(event.headers).toMatchObject({ 'x-custom': 'one,two', 'content-type': 'application/json', authorization: 'Bearer good-token' });
    expect(event.headers.cookie).toBeUndefined();
    expect(Object.keys(event.headers).every((name) => name === name.toLowerCase())).toBe(true);
    expect(event.requestContext).toMatchObject({
      http: { method: 'POST', path: '/v1/jobs/a%20b', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test-agent' },
      stage: '$default',
      routeKey: '$default',
      domainName: `127.0.0.1:${gateway.port}`,
      requestId: reply.headers['apigw-requestid'],
    });
    expect(event.requestContext.time).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
    expect(Math.abs(event.requestContext.timeEpoch - Date.now())).toBeLessThan(10_000);
    expect(event.requestContext.authorizer.jwt.claims).toEqual({
      sub: 'u-1',
      tenant: 't-1',
      groups: '[admin operator]',
      exp: '1900000000',
      meta: 'map[a:x b:2]',
    });
  });

  it('base64-encodes bodies that are not text and omits absent parts', async () => {
    await send(`${gateway.url}/upload`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/octet-stream' }, body: Buffer.from([0, 255, 1]) });
    await send(`${gateway.url}/plain`, { headers: auth });

    expect(events[0]).toMatchObject({ body: 'AP8B', isBase64Encoded: true });
    expect(events[1]).toMatchObject({ rawPath: '/plain', rawQueryString: '', isBase64Encoded: false });
    expect(events[1]!.body).toBeUndefined();
    expect(events[1]!.queryStringParameters).toBeUndefined();
    expect(events[1]!.cookies).toBeUndefined();
  });

  it('writes status, headers, cookies and base64 bodies back', async () => {
    respond = async () => ({ statusCode: 202, headers: { 'x-one': 1 }, cookies: ['s=1; HttpOnly', 't=2'], body: Buffer.from([1, 2, 3]).toString('base64'), isBase64Encoded: true });

    const reply = await send(`${gateway.url}/x`, { headers: auth });

    expect(reply.status).toBe(202);
    expect(reply.headers['x-one']).toBe('1');
    expect(reply.headers['set-cookie']).toEqual(['s=1; HttpOnly', 't=2']);
    expect([...reply.body]).toEqual([1, 2, 3]);
  });

  it('answers 401 without a valid bearer token and never calls the handler', async () => {
    const missing = await send(`${gateway.url}/v1/jobs`);
    const invalid = await send(`${gateway.url}/v1/jobs`, { headers: { authorization: 'Bearer forged' } });

    expect(events).toHaveLength(0);
    for (const reply of [missing, invalid]) {
      expect(reply.status).toBe(401);
      expect(reply.headers['www-authenticate']).toMatch(/^Bearer/);
      expect(json(reply)).toMatchObject({ code: 'UNAUTHORIZED', details: {} });
    }
  });

  it('lets GET /health through without a token and without an authorizer', async () => {
    const reply = await send(`${gateway.url}/health`);

    expect(reply.status).toBe(200);
    expect(events).toHaveLength(1);
    expect((events[0]!.requestContext as { authorizer?: unknown }).authorizer).toBeUndefined();
  });

  it('answers 413 for a declared body over the API Gateway limit without reading it', async () => {
    const reply = await new Promise<Reply>((resolve, reject) => {
      // Declares 10 MiB + 1 byte but sends none of it: the answer must not wait for the body.
      const req = httpRequest(`${gateway.url}/v1/jobs`, { method: 'POST', headers: { ...auth, 'content-length': GATEWAY_MAX_BODY_BYTES + 1 } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) });
          req.destroy();
        });
      });
      req.on('error', reject);
      req.flushHeaders();
    });

    expect(reply.status).toBe(413);
    expect(reply.headers.connection).toBe('close');
    expect(json(reply)).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect(events).toHaveLength(0);
  });

  it('answers 413 for a streamed body that grows over the limit', async () => {
    const reply = await send(`${gateway.url}/v1/jobs`, { method: 'POST', headers: { ...auth, 'transfer-encoding': 'chunked' }, body: Buffer.alloc(64 * 1024 + 1) });

    expect(reply.status).toBe(413);
    expect(events).toHaveLength(0);
  });

  it('answers 500 JSON and logs when the handler throws, then keeps serving', async () => {
    respond = async () => {
      throw new Error('boom');
    };
    const failed = await send(`${gateway.url}/x`, { headers: auth });
    respond = async () => ({ statusCode: 204 });
    const next = await send(`${gateway.url}/x`, { headers: auth });

    expect(failed.status).toBe(500);
    expect(json(failed)).toEqual({ code: 'INTERNAL_ERROR', message: expect.any(String), details: {} });
    expect(logged.join('\n')).toContain('boom');
    expect(next.status).toBe(204);
  });

  it('survives malformed requests and clients that go away mid-body', async () => {
    const raw = (text: string) =>
      new Promise<string>((resolve) => {
        const socket = connect(gateway.port, '127.0.0.1', () => socket.write(text));
        let received = '';
        socket.on('data', (c) => (received += c.toString()));
        socket.on('close', () => resolve(received));
      });

    const garbage = await raw('THIS IS NOT HTTP\r\n\r\n');
    const badTarget = await raw('GET nonsense HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const socket = connect(gateway.port, '127.0.0.1', () => {
      socket.write('POST /v1/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer good-token\r\nContent-Length: 100\r\n\r\nonly-part');
      socket.destroy();
    });
    const after = await send(`${gateway.url}/health`);

    expect(garbage).toMatch(/^HTTP\/1.1 400/);
    expect(badTarget).toMatch(/^HTTP\/1.1 400/);
    expect(badTarget).toContain('"code":"BAD_REQUEST"');
    expect(after.status).toBe(200);
    expect(events.map((e) => e.rawPath)).toEqual(['/health']);
  });

  it('close() also ends idle keep-alive connections', async () => {
    const agent = new Agent({ keepAlive: true });
    await send(`${gateway.url}/health`, { agent });
    const socketClosed = new Promise<void>((resolve) => {
      const sockets = Object.values(agent.freeSockets).flat();
      expect(sockets).toHaveLength(1);
      sockets[0]!.once('close', () => resolve());
    });

    await gateway.close();
    await socketClosed;
    agent.destroy();
  });
});

describe('Local: HTTP gateway integration timeout', () => {
  it('answers 503 when the handler does not answer in time', async () => {
    const logged: string[] = [];
    const gateway = await startHttpGateway({ port: 0, log: (m) => logged.push(m), timeoutMs: 50, verify: async () => ({}), handler: () => new Promise(() => {}) });
    try {
      const reply = await send(`${gateway.url}/health`);

      expect(reply.status).toBe(503);
      expect(json(reply)).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
      expect(logged).toHaveLength(1);
    } finally {
      await gateway.close();
    }
  });
});

describe('Local: HTTP gateway with a handler per HTTP function', () => {
  let gateway: HttpGateway;
  let invoked: HttpFunctionName[];

  beforeEach(async () => {
    invoked = [];
    const recording = (name: HttpFunctionName) => async () => (invoked.push(name), { statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{}' });
    const integrations: GatewayIntegrations = { api: recording('api'), workersApi: recording('workersApi'), openApi: recording('openApi') };
    gateway = await startHttpGateway({ port: 0, log: () => {}, verify: async () => ({ sub: 'u-1', tenant: 't-1' }), handler: integrations });
  });

  afterEach(async () => {
    await gateway.close();
  });

  const auth = { authorization: 'Bearer any' };

  it.each([
    ['GET', '/health', 'api'],
    ['GET', '/openapi.json', 'openApi'],
    ['POST', '/v1/jobs', 'api'],
    ['GET', '/v1/jobs/job_1/events', 'api'],
    ['GET', '/v1/workers', 'workersApi'],
    ['DELETE', '/v1/workers/w-1', 'workersApi'],
    ['POST', '/v1/workers/w-1/refresh', 'workersApi'],
    // Greedy routes match from the segment on: a path merely starting with `workers` is the api's.
    ['GET', '/v1/workersx', 'api'],
    ['GET', '/v1/queues/stats', 'api'],
  ] as const)('sends %s %s to %s, the function whose route is the most specific', async (method, path, name) => {
    const reply = await send(`${gateway.url}${path}`, { method, headers: auth });

    expect(reply.status).toBe(200);
    expect(invoked).toEqual([name]);
    expect(httpFunctionFor(method, path)?.name).toBe(name);
  });

  it('answers a path no route matches with 404 before asking for a token, as API Gateway does', async () => {
    const unrouted = [await send(`${gateway.url}/elsewhere`), await send(`${gateway.url}/health`, { method: 'POST' }), await send(`${gateway.url}/v1`)];

    for (const reply of unrouted) {
      expect(reply.status).toBe(404);
      expect(json(reply)).toMatchObject({ code: 'ROUTE_NOT_FOUND' });
    }
    expect(invoked).toEqual([]);
  });

  it('still asks for a token on every routed path but the public ones', async () => {
    const workers = await send(`${gateway.url}/v1/workers`);

    expect(workers.status).toBe(401);
    expect(invoked).toEqual([]);
  });
});

describe('Local: HTTP gateway helpers', () => {
  it('splits request targets as received', () => {
    expect(parseTarget('/a%2Fb?x=1&y')).toEqual({ rawPath: '/a%2Fb', rawQueryString: 'x=1&y' });
    expect(parseTarget('http://host:3000/p?q=1')).toEqual({ rawPath: '/p', rawQueryString: 'q=1' });
    expect(parseTarget('*')).toBeUndefined();
  });

  it('stringifies claims the way the HTTP API authorizer does', () => {
    expect(stringifyClaim(['admin', 'operator'])).toBe('[admin operator]');
    expect(stringifyClaim([])).toBe('[]');
    expect(stringifyClaim(42)).toBe('42');
    expect(stringifyClaim(true)).toBe('true');
  });
});
