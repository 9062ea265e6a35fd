import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ForgeflowApiError, ForgeflowClient, ForgeflowNetworkError } from '../../client/index.ts';
import { parseRetryAfter } from '../../client/errors.ts';
import { retryDelayMs, withRetry } from '../../client/retry.ts';

interface Seen {
  at: number;
  headers: IncomingHttpHeaders;
  body: string;
}

type Answer = { status: number; headers?: Record<string, string>; body?: unknown };

/** A tiny API stand-in: answers each request with the next of `answers` and records what it received. */
async function fakeApi(answers: Answer[]): Promise<{ url: string; seen: Seen[]; server: Server }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      seen.push({ at: performance.now(), headers: req.headers, body });
      const answer = answers[Math.min(seen.length - 1, answers.length - 1)]!;
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(JSON.stringify(answer.body ?? {}));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

const job = { jobId: 'job_0123456789abcdef0123456789abcdef', status: 'QUEUED' };
const rateLimited = (retryAfter: string): Answer => ({ status: 429, headers: { 'retry-after': retryAfter }, body: { code: 'RATE_LIMITED', message: 'slow down', details: {} } });

describe('Client: retries', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  it('waits as long as Retry-After says, then sends the submit again with the same Idempotency-Key', async () => {
    const api = await fakeApi([rateLimited('1'), { status: 201, body: job }]);
    server = api.server;
    const client = new ForgeflowClient({ baseUrl: api.url, token: 't' });

    const submitted = await client.submit({ command: ['true'] });

    expect(submitted.jobId).toBe(job.jobId);
    expect(api.seen).toHaveLength(2);
    const [first, second] = api.seen as [Seen, Seen];
    expect(first.headers['idempotency-key']).toMatch(/^[0-9a-f-]{36}$/);
    expect(second.headers['idempotency-key']).toBe(first.headers['idempotency-key']);
    expect(second.body).toBe(first.body);
    expect(second.at - first.at).toBeGreaterThanOrEqual(950);
    expect(second.at - first.at).toBeLessThan(3000);
  });

  it('keeps a key the caller gives across its retries, and retries a 503', async () => {
    const api = await fakeApi([{ status: 503, body: { code: 'STORE_UNREACHABLE', message: 'down', details: {} } }, { status: 200, body: job }]);
    server = api.server;
    const client = new ForgeflowClient({ baseUrl: api.url, token: 't', retry: { baseDelayMs: 1 } });

    await client.submit({ command: 'true' }, { idempotencyKey: 'my-key' });

    expect(api.seen.map((s) => s.headers['idempotency-key'])).toEqual(['my-key', 'my-key']);
  });

  it('never retries another 4xx or a 500: the error comes back typed at once', async () => {
    const api = await fakeApi([{ status: 400, body: { code: 'VALIDATION_ERROR', message: 'bad', details: { issues: [{ path: 'command', message: 'required' }] } } }]);
    server = api.server;
    const client = new ForgeflowClient({ baseUrl: api.url, token: 't', retry: { baseDelayMs: 1 } });

    const error = await client.submit({ command: 'x' }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ForgeflowApiError);
    expect(error).toMatchObject({ status: 400, code: 'VALIDATION_ERROR', details: { issues: [{ path: 'command' }] } });
    expect(api.seen).toHaveLength(1);

    const failing = await fakeApi([{ status: 500, body: { code: 'INTERNAL_ERROR', message: 'oops', details: {} } }]);
    try {
      await expect(new ForgeflowClient({ baseUrl: failing.url, token: 't', retry: { baseDelayMs: 1 } }).get(job.jobId)).rejects.toMatchObject({ status: 500 });
      expect(failing.seen).toHaveLength(1);
    } finally {
      failing.server.close();
    }
  });

  it('gives up after maxAttempts and reports the last error', async () => {
    const api = await fakeApi([rateLimited('0')]);
    server = api.server;
    const client = new ForgeflowClient({ baseUrl: api.url, token: 't', retry: { maxAttempts: 3 } });

    await expect(client.get(job.jobId)).rejects.toMatchObject({ status: 429, code: 'RATE_LIMITED', retryAfterMs: 0 });
    expect(api.seen).toHaveLength(3);
  });

  it('tells a connection that never answered apart from an API error, after retrying it', async () => {
    const api = await fakeApi([]);
    const url = api.url;
    await new Promise<void>((resolve) => api.server.close(() => resolve()));
    const client = new ForgeflowClient({ baseUrl: url, token: 't', retry: { maxAttempts: 2, baseDelayMs: 1 } });

    const error = await client.get(job.jobId).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ForgeflowNetworkError);
    expect((error as Error).message).toContain('ECONNREFUSED');
  });

  it('stops waiting for a retry when its signal aborts, with the signal reason', async () => {
    const api = await fakeApi([rateLimited('30')]);
    server = api.server;
    const client = new ForgeflowClient({ baseUrl: api.url, token: 't' });
    const controller = new AbortController();
    const reason = new Error('user gave up');

    const pending = client.get(job.jobId, { signal: controller.signal });
    await expect.poll(() => api.seen.length).toBe(1);
    controller.abort(reason);

    await expect(pending).rejects.toBe(reason);
    expect(api.seen).toHaveLength(1);
  });
});

describe('Client: retry timing', () => {
  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfter('7', now)).toBe(7000);
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:03 GMT', now)).toBe(3000);
    expect(parseRetryAfter('Tue, 31 Dec 2024 23:59:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it('backs off exponentially with full jitter, capped, unless the server said how long', () => {
    const noRetryAfter = new ForgeflowApiError(503, 'X', 'x');
    expect(retryDelayMs(noRetryAfter, 1, { baseDelayMs: 100, random: () => 0.999 })).toBe(99);
    expect(retryDelayMs(noRetryAfter, 4, { baseDelayMs: 100, random: () => 0.999 })).toBe(799);
    expect(retryDelayMs(noRetryAfter, 20, { baseDelayMs: 100, maxDelayMs: 5000, random: () => 0.999 })).toBe(4995);
    expect(retryDelayMs(noRetryAfter, 3, { random: () => 0 })).toBe(0);
    expect(retryDelayMs(new ForgeflowApiError(429, 'X', 'x', {}, 2500), 1, { random: () => 0 })).toBe(2500);
    // A server asking for longer than the client is willing to wait gets its error back instead.
    expect(retryDelayMs(new ForgeflowApiError(429, 'X', 'x', {}, 120_000), 1)).toBeUndefined();
  });

  it('retries only what a retry can mend', async () => {
    let calls = 0;
    const conflict = new ForgeflowApiError(409, 'JOB_NOT_CANCELLABLE', 'no');
    await expect(withRetry(async () => { calls++; throw conflict; }, { baseDelayMs: 1 })).rejects.toBe(conflict);
    expect(calls).toBe(1);
  });
});
