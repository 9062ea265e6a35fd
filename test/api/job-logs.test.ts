import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileJobLogStore } from '../../functions/adapters/file/job-log-store.ts';
import { toErrorResult, type HttpResult } from '../../functions/api/http.ts';
import { logRoutes } from '../../functions/api/log-routes.ts';
import { Router } from '../../functions/api/router.ts';
import { JobService, type Actor } from '../../functions/core/job-service.ts';
import { MAX_MESSAGE_BYTES, type JobAttemptRef } from '../../functions/core/job-logs.ts';
import type { JobRecord } from '../../functions/core/job.ts';
import type { JobStore } from '../../functions/core/ports.ts';
import type { HttpEvent } from '../../functions/api/http.ts';

const JOB_ID = `job_${'a'.repeat(32)}`;
const alice = { sub: 'alice', tenant: 'acme' };
const bob = { sub: 'bob', tenant: 'globex' };
const T0 = Date.UTC(2030, 0, 1);
const FOLLOW_WAIT_MS = 20_000;

/** Jobs by id: all the route reads of the job store (through JobService.get and its tenant check). */
class Jobs implements Pick<JobStore, 'get'> {
  readonly byId = new Map<string, JobRecord>();
  async get(jobId: string) {
    return this.byId.get(jobId);
  }
  put(overrides: Partial<JobRecord>) {
    const current = this.byId.get(JOB_ID) ?? ({ jobId: JOB_ID, tenantId: alice.tenant, status: 'RUNNING', run: 1, attempts: 1, updatedAt: new Date(T0).toISOString() } as JobRecord);
    this.byId.set(JOB_ID, { ...current, ...overrides });
  }
}

let dir: string;
let jobs: Jobs;
let logs: FileJobLogStore;
let now: number;
/** Runs at each wait of a follow, with the wait's number (from 1): what the job does meanwhile. */
let duringWait: (n: number) => Promise<void>;
let waits: number[];
let router: Router;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ff-log-routes-'));
  jobs = new Jobs();
  jobs.put({});
  now = T0;
  logs = new FileJobLogStore(dir, () => now);
  waits = [];
  duringWait = async () => {};
  const service = new JobService({ store: jobs as unknown as JobStore, clock: { now: () => new Date(now) } });
  const sleep = async (ms: number) => {
    waits.push(ms);
    now += ms;
    await duringWait(waits.length);
  };
  router = new Router(logRoutes({ service, logs, followWaitMs: FOLLOW_WAIT_MS, pollMs: { first: 250, max: 2000 }, now: () => now, sleep }));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const actorOf = (caller: typeof alice): Actor => ({ sub: caller.sub, tenantId: caller.tenant, groups: [] });

/** What the route reads of an HTTP API event (test/support/api.ts builds whole ones, but starts DynamoDB Local). */
function httpEvent(path: string, options: { query?: Record<string, string>; headers?: Record<string, string> }): HttpEvent {
  const headers = Object.fromEntries(Object.entries(options.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  return { rawPath: path, headers, ...(options.query ? { queryStringParameters: options.query } : {}) } as HttpEvent;
}

/** The route as createApi runs it: matched, handled, errors mapped to their JSON answers. */
async function get(options: { query?: Record<string, string>; headers?: Record<string, string>; caller?: typeof alice; id?: string } = {}): Promise<HttpResult> {
  const path = `/v1/jobs/${options.id ?? JOB_ID}/logs`;
  const event = httpEvent(path, { ...(options.query ? { query: options.query } : {}), ...(options.headers ? { headers: options.headers } : {}) });
  try {
    const { route, params } = router.match('GET', path);
    return await route.handle({ event, params, actor: actorOf(options.caller ?? alice), correlationId: 'test' });
  } catch (error) {
    const result = toErrorResult(error);
    if (!result) throw error;
    return result;
  }
}
const body = (result: HttpResult) => JSON.parse(result.body as string) as Record<string, unknown> & { events: { attempt: number; seq: number; text: string; timestamp: string }[]; nextCursor: string | null };

function frames(result: HttpResult): { events: EventSourceMessage[]; retry?: number } {
  const events: EventSourceMessage[] = [];
  let retry: number | undefined;
  const parser = createParser({ onEvent: (e) => events.push(e), onRetry: (ms) => (retry = ms) });
  parser.feed(result.body as string);
  return { events, ...(retry === undefined ? {} : { retry }) };
}

const print = (ref: Partial<JobAttemptRef>, ...lines: string[]) =>
  logs.append({ jobId: JOB_ID, run: 1, attempt: 1, ...ref }, lines.map((message) => ({ timestamp: now, message })));

describe('GET /v1/jobs/{id}/logs (JSON)', () => {
  it('pages through the output with nextCursor, numbering chunks per attempt, complete once the job is over', async () => {
    await print({}, 'one\n', 'two\n');
    const first = await get();
    expect(first.statusCode).toBe(200);
    expect(body(first)).toMatchObject({ jobId: JOB_ID, status: 'RUNNING', attempt: 1, complete: false });
    expect(body(first).events).toEqual([
      { attempt: 1, seq: 0, timestamp: new Date(T0).toISOString(), text: 'one\n' },
      { attempt: 1, seq: 1, timestamp: new Date(T0).toISOString(), text: 'two\n' },
    ]);
    // Nothing new yet: no events, and a cursor to come back with.
    const again = body(await get({ query: { cursor: body(first).nextCursor! } }));
    expect(again).toMatchObject({ events: [], complete: false, nextCursor: expect.any(String) });

    await print({}, 'three\n');
    jobs.put({ status: 'SUCCEEDED', result: { exitCode: 0, durationMs: 5, outputTail: '' } });
    const last = body(await get({ query: { cursor: again.nextCursor! } }));
    expect(last.events.map((e) => [e.seq, e.text])).toEqual([[2, 'three\n']]);
    expect(last).toMatchObject({ status: 'SUCCEEDED', complete: true, nextCursor: null });
  });

  it('answers about 1 MB at a time, the rest from the cursor', async () => {
    for (let i = 0; i < 5; i++) await print({}, String(i).repeat(MAX_MESSAGE_BYTES));
    const first = body(await get());
    expect(first.events.map((e) => e.seq)).toEqual([0, 1, 2]);
    const rest = body(await get({ query: { cursor: first.nextCursor! } }));
    expect(rest.events.map((e) => [e.seq, e.text[0]])).toEqual([
      [3, '3'],
      [4, '4'],
    ]);
  });

  it('starts at the attempt asked for and reads on into later ones', async () => {
    jobs.put({ attempts: 2 });
    await print({ attempt: 1 }, 'try 1\n');
    await print({ attempt: 2 }, 'try 2\n');
    expect(body(await get()).events.map((e) => e.text)).toEqual(['try 2\n']);
    expect(body(await get({ query: { attempt: '1' } })).events.map((e) => [e.attempt, e.text])).toEqual([
      [1, 'try 1\n'],
      [2, 'try 2\n'],
    ]);
  });

  it('refuses an attempt that has not started, a forged cursor and an unknown parameter', async () => {
    expect(body(await get({ query: { attempt: '2' } }))).toMatchObject({ code: 'VALIDATION_ERROR' });
    const forged = await get({ query: { cursor: 'bm90IGEgY3Vyc29y' } });
    expect([forged.statusCode, body(forged).code]).toEqual([400, 'INVALID_CURSOR']);
    expect((await get({ query: { tail: '10' } })).statusCode).toBe(400);
  });
});

describe('GET /v1/jobs/{id}/logs?follow=true (server-sent events, long-polled)', () => {
  it('answers text/event-stream: each chunk with its cursor as id, as event log, its JSON as data', async () => {
    await print({}, 'hello\n', 'world\n');
    const result = await get({ query: { follow: 'true' } });
    expect(result.statusCode).toBe(200);
    expect(result.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    const { events, retry } = frames(result);
    expect(retry).toBe(500);
    expect(events.map((e) => [e.event, JSON.parse(e.data)])).toEqual([
      ['log', { attempt: 1, seq: 0, timestamp: new Date(T0).toISOString(), text: 'hello\n' }],
      ['log', { attempt: 1, seq: 1, timestamp: new Date(T0).toISOString(), text: 'world\n' }],
    ]);
    expect(events.every((e) => typeof e.id === 'string' && e.id.length > 0)).toBe(true);
    // Output already there is answered at once: no wait.
    expect(waits).toEqual([]);
  });

  it('resumes after the Last-Event-ID it is given', async () => {
    await print({}, 'a\n', 'b\n', 'c\n');
    const { events } = frames(await get({ query: { follow: 'true' } }));
    const resumed = frames(await get({ query: { follow: 'true' }, headers: { 'Last-Event-ID': events[0]!.id! } }));
    expect(resumed.events.map((e) => JSON.parse(e.data).text)).toEqual(['b\n', 'c\n']);
  });

  it('waits for new output and answers as soon as some arrives, not at the end of its wait', async () => {
    duringWait = async (n) => {
      if (n === 3) await print({}, 'late\n');
    };
    const result = await get({ query: { follow: 'true' } });
    expect(frames(result).events.map((e) => JSON.parse(e.data).text)).toEqual(['late\n']);
    // Polled at a growing interval, and returned on the read after the output appeared.
    expect(waits).toEqual([250, 500, 1000]);
  });

  it('ends without end after its wait when nothing comes, for the client to reconnect', async () => {
    const result = await get({ query: { follow: 'true' } });
    expect(frames(result).events).toEqual([]);
    expect(waits.reduce((sum, ms) => sum + ms, 0)).toBeLessThanOrEqual(FOLLOW_WAIT_MS);
    expect(now - T0).toBeGreaterThan(FOLLOW_WAIT_MS - 2000);
  });

  it('sends end once the job is over and every chunk was sent, after them', async () => {
    await print({}, 'working\n');
    const first = frames(await get({ query: { follow: 'true' } }));
    duringWait = async (n) => {
      if (n !== 1) return;
      await print({}, 'done\n');
      jobs.put({ status: 'FAILED', result: { exitCode: 3, durationMs: 5, outputTail: '' } });
    };
    const last = frames(await get({ query: { follow: 'true' }, headers: { 'last-event-id': first.events.at(-1)!.id! } }));
    expect(last.events.map((e) => [e.event, e.event === 'end' ? JSON.parse(e.data) : JSON.parse(e.data).text])).toEqual([
      ['log', 'done\n'],
      ['end', { status: 'FAILED', exitCode: 3 }],
    ]);
    // Reconnecting after the end: nothing more, end again at once.
    const after = frames(await get({ query: { follow: 'true' }, headers: { 'last-event-id': last.events[0]!.id! } }));
    expect(after.events.map((e) => e.event)).toEqual(['end']);
  });

  it('follows a retry into the next attempt', async () => {
    await print({}, 'attempt one\n');
    const first = frames(await get({ query: { follow: 'true' } }));
    duringWait = async (n) => {
      if (n !== 1) return;
      jobs.put({ status: 'RUNNING', attempts: 2 });
      await print({ attempt: 2 }, 'attempt two\n');
    };
    const next = frames(await get({ query: { follow: 'true' }, headers: { 'last-event-id': first.events[0]!.id! } }));
    expect(next.events.map((e) => [JSON.parse(e.data).attempt, JSON.parse(e.data).seq, JSON.parse(e.data).text])).toEqual([[2, 0, 'attempt two\n']]);
  });
});

describe('tenant isolation', () => {
  it("answers another tenant's job as 404 JOB_NOT_FOUND, followed or not, like a missing one", async () => {
    await print({}, 'private\n');
    for (const query of [{}, { follow: 'true' }] as Record<string, string>[]) {
      const other = await get({ caller: bob, query });
      expect([other.statusCode, body(other).code]).toEqual([404, 'JOB_NOT_FOUND']);
      expect(other.body).not.toContain('private');
      const missing = await get({ id: `job_${'b'.repeat(32)}`, query });
      expect([missing.statusCode, body(missing).code]).toEqual([404, 'JOB_NOT_FOUND']);
    }
    // The same job is read fine by its own tenant.
    expect(body(await get()).events.map((e) => e.text)).toEqual(['private\n']);
  });
});
