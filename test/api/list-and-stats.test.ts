import { beforeAll, describe, expect, it } from 'vitest';
import { PRIORITIES } from '../../functions/core/priority.ts';
import { createTestApi, alice, bob, type Caller } from '../support/api.ts';

describe('GET /v1/jobs and GET /v1/queues/stats', () => {
  let api: Awaited<ReturnType<typeof createTestApi>>;
  const carol: Caller = { sub: 'carol', tenant: 'initech' };
  beforeAll(async () => {
    api = await createTestApi();
  });

  it('lists newest first across pages with an opaque cursor, never mixing tenants', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push((await api.call('POST', '/v1/jobs', { caller: carol, body: { command: `echo ${i}` } })).body.jobId as string);
    await api.call('POST', '/v1/jobs', { caller: bob, body: { command: 'not carol' } });
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const res = await api.call('GET', '/v1/jobs', { caller: carol, query: { limit: '3', ...(cursor ? { cursor } : {}) } });
      expect(res.status).toBe(200);
      seen.push(...res.body.items!.map((j) => j.jobId as string));
      cursor = (res.body.nextCursor as string | null) ?? undefined;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
  });

  it('filters by status and by priority', async () => {
    const mk = async (priority: string) => (await api.call('POST', '/v1/jobs', { caller: carol, body: { command: 'f', priority } })).body.jobId as string;
    const low = await mk('low');
    const critical = await mk('critical');
    await api.call('DELETE', `/v1/jobs/${low}`, { caller: carol });
    const cancelled = await api.call('GET', '/v1/jobs', { caller: carol, query: { status: 'CANCELLED' } });
    expect(cancelled.body.items!.map((j) => j.jobId)).toEqual([low]);
    const crit = await api.call('GET', '/v1/jobs', { caller: carol, query: { priority: 'critical', limit: '1' } });
    expect(crit.body.items!.map((j) => j.jobId)).toEqual([critical]);
  });

  it('refuses a cursor from another query or tenant, and bad filters', async () => {
    const res = await api.call('GET', '/v1/jobs', { caller: carol, query: { limit: '1' } });
    const cursor = res.body.nextCursor as string;
    expect(cursor).toBeTruthy();
    const stolen = await api.call('GET', '/v1/jobs', { caller: bob, query: { cursor } });
    expect(stolen.status).toBe(400);
    expect(stolen.body.code).toBe('INVALID_CURSOR');
    expect((await api.call('GET', '/v1/jobs', { caller: carol, query: { cursor: 'garbage!!' } })).body.code).toBe('INVALID_CURSOR');
    expect((await api.call('GET', '/v1/jobs', { caller: carol, query: { status: 'DONE' } })).status).toBe(400);
    expect((await api.call('GET', '/v1/jobs', { caller: carol, query: { limit: '1000' } })).status).toBe(400);
    expect((await api.call('GET', '/v1/jobs', { caller: carol, query: { sort: 'asc' } })).status).toBe(400);
  });

  it('reports stats that equal what a mixed sequence of submits and cancels implies', async () => {
    const dave: Caller = { sub: 'dave', tenant: 'hooli' };
    const expected = Object.fromEntries(PRIORITIES.map((p) => [p, 0])) as Record<string, number>;
    let cancelled = 0;
    // A deterministic but irregular mix: every priority, some cancels, some idempotent replays.
    for (let i = 0; i < 24; i++) {
      const priority = PRIORITIES[(i * 7) % 4]!;
      const res = await api.call('POST', '/v1/jobs', { caller: dave, body: { command: 'c', priority }, headers: { 'Idempotency-Key': `k${i % 20}` } });
      if (res.status === 201) expected[priority]!++;
      if (res.status === 201 && i % 3 === 0) {
        expect((await api.call('DELETE', `/v1/jobs/${res.body.jobId}`, { caller: dave })).status).toBe(202);
        expected[priority]!--;
        cancelled++;
      }
    }
    const stats = await api.call('GET', '/v1/queues/stats', { caller: dave });
    expect(stats.body.queued).toEqual(expected);
    expect(stats.body.running).toEqual({ critical: 0, high: 0, medium: 0, low: 0 });
    expect(stats.body.totals).toEqual({ SUCCEEDED: 0, FAILED: 0, CANCELLED: cancelled, DEAD_LETTERED: 0 });
    // Another tenant's counters are untouched by dave's jobs.
    const other = await api.call('GET', '/v1/queues/stats', { caller: alice });
    expect(other.body.totals).toEqual({ SUCCEEDED: 0, FAILED: 0, CANCELLED: 0, DEAD_LETTERED: 0 });
  });
});
