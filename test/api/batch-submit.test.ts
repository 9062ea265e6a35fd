import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestApi, bob } from '../support/api.ts';

type Result = { outcome: string; job?: { jobId: string; status: string; priority: string }; error?: { code: string; details: Record<string, unknown> } };
const resultsOf = (body: Record<string, unknown>) => body.results as Result[];

describe('POST /v1/jobs/batch', () => {
  let api: Awaited<ReturnType<typeof createTestApi>>;
  beforeAll(async () => {
    api = await createTestApi();
  });

  const queuedCounts = async () => {
    const stats = await api.call('GET', '/v1/queues/stats', { caller: bob });
    return (stats.body.byStatus as Record<string, Record<string, number>>).QUEUED!;
  };

  it('queues every job in one transaction: the jobs, one event each and the counters', async () => {
    const before = await queuedCounts();
    const send = vi.spyOn(api.tables.documentClient, 'send');
    const res = await api.call('POST', '/v1/jobs/batch', {
      caller: bob,
      body: { jobs: [{ job: { command: 'echo a', priority: 'high' } }, { job: { command: 'echo b' } }, { idempotencyKey: 'batch-one-c', job: { command: 'echo c' } }] },
    });
    const transactions = send.mock.calls.filter(([command]) => command instanceof TransactWriteCommand);
    send.mockRestore();
    expect(res.status).toBe(200);
    expect(transactions).toHaveLength(1);
    const results = resultsOf(res.body);
    expect(results.map((r) => [r.outcome, r.job?.status, r.job?.priority])).toEqual([
      ['created', 'QUEUED', 'high'],
      ['created', 'QUEUED', 'medium'],
      ['created', 'QUEUED', 'medium'],
    ]);
    for (const { job } of results) {
      expect((await api.call('GET', `/v1/jobs/${job!.jobId}`, { caller: bob })).body.status).toBe('QUEUED');
      expect((await api.outboxEventsFor(job!.jobId)).map((e) => e.type)).toEqual(['JobQueued']);
    }
    const after = await queuedCounts();
    expect([after.high! - before.high!, after.medium! - before.medium!]).toEqual([1, 2]);
  });

  it('answers a batch sent again with the same jobs, replayed, and writes no second event', async () => {
    const body = { jobs: [{ idempotencyKey: 'again-a', job: { command: 'echo a' } }, { idempotencyKey: 'again-b', job: { command: 'echo b' } }] };
    const first = resultsOf((await api.call('POST', '/v1/jobs/batch', { body })).body);
    const second = resultsOf((await api.call('POST', '/v1/jobs/batch', { body })).body);
    expect(first.map((r) => r.outcome)).toEqual(['created', 'created']);
    expect(second.map((r) => r.outcome)).toEqual(['replayed', 'replayed']);
    expect(second.map((r) => r.job!.jobId)).toEqual(first.map((r) => r.job!.jobId));
    for (const { job } of first) expect(await api.outboxEventsFor(job!.jobId)).toHaveLength(1);
  });

  it('gives each job its own outcome when some keys are known: replayed, refused alone, created', async () => {
    const known = await api.call('POST', '/v1/jobs', { body: { command: 'echo known' }, headers: { 'Idempotency-Key': 'mixed-known' } });
    await api.call('POST', '/v1/jobs', { body: { command: 'echo first' }, headers: { 'Idempotency-Key': 'mixed-reused' } });
    const res = await api.call('POST', '/v1/jobs/batch', {
      body: {
        jobs: [
          { idempotencyKey: 'mixed-known', job: { command: 'echo known' } },
          { idempotencyKey: 'mixed-reused', job: { command: 'echo other' } },
          { idempotencyKey: 'mixed-new', job: { command: 'echo new' } },
        ],
      },
    });
    const results = resultsOf(res.body);
    expect(results.map((r) => r.outcome)).toEqual(['replayed', 'failed', 'created']);
    expect(results[0]!.job!.jobId).toBe(known.body.jobId);
    expect(results[1]!.error).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
    expect((await api.outboxEventsFor(results[2]!.job!.jobId)).map((e) => e.type)).toEqual(['JobQueued']);
  });

  it('refuses a job too large for a saga alone, with SPEC_TOO_LARGE, and queues the others', async () => {
    const tooLarge = { command: 'echo "$@"', args: Array.from({ length: 9 }, () => 'a'.repeat(8000)) };
    const res = await api.call('POST', '/v1/jobs/batch', { body: { jobs: [{ job: tooLarge }, { job: { command: 'echo fits' } }] } });
    const results = resultsOf(res.body);
    expect(results.map((r) => r.outcome)).toEqual(['failed', 'created']);
    expect(results[0]!.error).toMatchObject({ code: 'SPEC_TOO_LARGE', details: { limitBytes: 65_536 } });
  });

  it.each([
    ['no jobs', { jobs: [] }, 'jobs'],
    ['more than 25 jobs', { jobs: Array.from({ length: 26 }, () => ({ job: { command: 'x' } })) }, 'jobs'],
    ['one key twice', { jobs: [{ idempotencyKey: 'twice', job: { command: 'x' } }, { idempotencyKey: 'twice', job: { command: 'x' } }] }, 'jobs.1.idempotencyKey'],
    ['an unknown field in a job', { jobs: [{ job: { command: 'x' } }, { job: { command: 'x', image: 'ubuntu' } }] }, 'jobs.1.job'],
    ['a job without its wrapper', { jobs: [{ command: 'x' }] }, 'jobs.0'],
  ])('queues nothing and answers 400 VALIDATION_ERROR for %s', async (_, body, path) => {
    const before = await queuedCounts();
    const res = await api.call('POST', '/v1/jobs/batch', { caller: bob, body });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION_ERROR');
    expect((res.body.details as { issues: { path: string }[] }).issues.map((i) => i.path)).toContain(path);
    expect(await queuedCounts()).toEqual(before);
  });
});
