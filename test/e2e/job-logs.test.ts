import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalRuntime, type LocalRuntime } from '../../local/runtime.ts';
import { sharedDynamoDb } from '../support/dynamodb.ts';

interface Chunk {
  attempt: number;
  seq: number;
  timestamp: string;
  text: string;
}

/**
 * Job output end to end on the local runtime: an agent process ships a running job's output to the file store, the
 * api handler behind the local gateway reads it, and a client follows it as server-sent events, reconnecting with
 * Last-Event-ID after each long poll, as an EventSource does.
 */
describe('Job logs on the local runtime', { timeout: 180_000 }, () => {
  let home: string;
  let runtime: LocalRuntime;
  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'ff-job-logs-e2e-'));
    runtime = await startLocalRuntime({ home, port: 0, sharedDynamoDb: sharedDynamoDb(), log: () => {}, workers: 1 });
  });
  afterAll(async () => {
    await runtime?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  const call = (path: string, token: string, headers: Record<string, string> = {}, init: RequestInit = {}) =>
    fetch(`${runtime.url}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...headers } });
  const OUTPUT = 'line 1\nline 2\nline 3\nline 4\n';

  it('streams the lines of a running job as it prints them, then end', async () => {
    const submitted = await call('/v1/jobs', runtime.tokens.user, { 'content-type': 'application/json' }, {
      method: 'POST',
      body: JSON.stringify({ command: 'for i in 1 2 3 4; do echo line $i; sleep 1; done', timeoutSeconds: 60 }),
    });
    const { jobId } = (await submitted.json()) as { jobId: string };

    // Another tenant cannot follow it: the same 404 as for a job that does not exist.
    const other = await call(`/v1/jobs/${jobId}/logs?follow=true`, runtime.tokens.other);
    expect(other.status).toBe(404);
    expect(await other.json()).toMatchObject({ code: 'JOB_NOT_FOUND' });

    const chunks: Chunk[] = [];
    let firstChunkAt: number | undefined;
    let end: { status: string; exitCode: number | null } | undefined;
    let lastEventId: string | undefined;
    let responses = 0;
    while (!end) {
      expect(responses++, 'a follow that never ends').toBeLessThan(100);
      const response = await call(`/v1/jobs/${jobId}/logs?follow=true`, runtime.tokens.user, lastEventId ? { 'last-event-id': lastEventId } : {});
      expect(response.status).toBe(200);
      // The local gateway passes the handler's content type and body through unchanged.
      expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      const events: EventSourceMessage[] = [];
      createParser({ onEvent: (event) => events.push(event) }).feed(await response.text());
      for (const event of events) {
        if (event.event === 'end') {
          end = JSON.parse(event.data) as typeof end;
          continue;
        }
        expect(end, 'a chunk after end').toBeUndefined();
        chunks.push(JSON.parse(event.data) as Chunk);
        lastEventId = event.id;
        firstChunkAt ??= Date.now();
      }
    }

    const job = (await (await call(`/v1/jobs/${jobId}`, runtime.tokens.user)).json()) as { finishedAt: string; result: { outputTail: string } };
    // Live: the first chunk reached the client while the command still ran (it prints for about four seconds).
    expect(firstChunkAt).toBeLessThan(Date.parse(job.finishedAt));
    expect(chunks.map((c) => c.text).join('')).toBe(OUTPUT);
    // Batched by time: a chunk per flush, so more than one while it ran, numbered in order.
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.map((c) => [c.attempt, c.seq])).toEqual(chunks.map((_, i) => [1, i]));
    expect(end).toEqual({ status: 'SUCCEEDED', exitCode: 0 });

    // Read again as JSON: the same output, complete, and the result keeps its tail as before.
    const read = (await (await call(`/v1/jobs/${jobId}/logs`, runtime.tokens.user)).json()) as { complete: boolean; events: Chunk[]; nextCursor: string | null };
    expect(read).toMatchObject({ complete: true, nextCursor: null });
    expect(read.events).toEqual(chunks);
    expect(job.result.outputTail).toBe(OUTPUT);
  });
});
