import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { collect, ForgeflowApiError, ForgeflowClient, ForgeflowUnsupportedError, type LogChunk } from '../../client/index.ts';

const JOB = 'job_0123456789abcdef0123456789abcdef';
const chunk = (seq: number, text: string): LogChunk => ({ attempt: 1, seq, timestamp: '2025-01-01T00:00:00.000Z', text });
const log = (id: string, c: LogChunk) => `id: ${id}\nevent: log\ndata: ${JSON.stringify(c)}\n\n`;

/** Serves the logs follow endpoint from a script: one function per connection, each given the request's headers. */
async function followServer(connections: Array<(res: ServerResponse, headers: IncomingHttpHeaders) => void>) {
  const requests: Array<{ url: string; headers: IncomingHttpHeaders }> = [];
  const server = createServer((req, res) => {
    requests.push({ url: req.url!, headers: req.headers });
    const answer = connections[requests.length - 1];
    if (!answer) return void res.writeHead(500).end();
    answer(res, req.headers);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, requests, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const stream = (res: ServerResponse) => res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });

describe('Client: following logs', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  it('reconnects with Last-Event-ID after a response that ended without `end`, until `end`', async () => {
    const api = await followServer([
      (res) => {
        stream(res);
        res.write('retry: 10\n\n');
        res.write(log('c1', chunk(0, 'hel')));
        res.end(log('c2', chunk(1, 'lo\n')));
      },
      // A long poll that found nothing: no id, so the next reconnect still resumes after c2.
      (res) => (stream(res), res.end(': nothing yet\n\n')),
      (res) => {
        stream(res);
        res.write(log('c3', chunk(2, 'bye\n')));
        res.end(`event: end\ndata: ${JSON.stringify({ status: 'FAILED', exitCode: 3 })}\n\n`);
      },
    ]);
    server = api.server;
    const client = new ForgeflowClient({ baseUrl: api.url, token: 'secret' });

    const follow = client.followLogs(JOB);
    const texts: string[] = [];
    let next = await follow.next();
    while (!next.done) {
      texts.push(next.value.text);
      next = await follow.next();
    }

    expect(texts.join('')).toBe('hello\nbye\n');
    expect(next.value).toEqual({ status: 'FAILED', exitCode: 3 });
    expect(api.requests.map((r) => r.headers['last-event-id'])).toEqual([undefined, 'c2', 'c2']);
    expect(api.requests.every((r) => r.url === `/v1/jobs/${JOB}/logs?follow=true` && r.headers.accept === 'text/event-stream')).toBe(true);
    expect(api.requests[0]!.headers.authorization).toBe('Bearer secret');
  });

  it('says so when the server answers with JSON instead of a stream (a server without log streaming)', async () => {
    const api = await followServer([(res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"outputTail":""}')]);
    server = api.server;

    await expect(collect(new ForgeflowClient({ baseUrl: api.url, token: 't' }).followLogs(JOB))).rejects.toBeInstanceOf(ForgeflowUnsupportedError);
  });

  it("passes the API's error on: another tenant's job is a 404 like a missing one", async () => {
    const api = await followServer([(res) => res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 'JOB_NOT_FOUND', message: 'nope', details: { jobId: JOB } }))]);
    server = api.server;

    const error = await collect(new ForgeflowClient({ baseUrl: api.url, token: 't' }).followLogs(JOB)).catch((e: unknown) => e);

    expect(ForgeflowApiError.is(error, 'JOB_NOT_FOUND')).toBe(true);
    expect(api.requests).toHaveLength(1);
  });

  it('stops when its signal aborts, closing the stream', async () => {
    let closed!: () => void;
    const gone = new Promise<void>((resolve) => (closed = resolve));
    const api = await followServer([
      (res) => {
        stream(res);
        res.write(log('c1', chunk(0, 'working\n')));
        res.on('close', closed);
      },
    ]);
    server = api.server;
    const controller = new AbortController();
    const follow = new ForgeflowClient({ baseUrl: api.url, token: 't' }).followLogs(JOB, { signal: controller.signal });

    expect((await follow.next()).value).toMatchObject({ text: 'working\n' });
    const pending = follow.next();
    controller.abort(new Error('done watching'));

    await expect(pending).rejects.toThrow('done watching');
    await gone;
  });
});
