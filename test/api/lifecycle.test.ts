import { beforeAll, describe, expect, it } from 'vitest';
import { createTestApi, alice, bob, root, tenantAdmin } from '../support/api.ts';
import { moveJob } from '../support/job-fixtures.ts';

describe('Job lifecycle routes', () => {
  let api: Awaited<ReturnType<typeof createTestApi>>;
  const submit = async (body: Record<string, unknown> = { command: 'true' }, caller = alice) => {
    const res = await api.call('POST', '/v1/jobs', { body, caller });
    expect(res.status).toBe(201);
    return res.body.jobId as string;
  };
  beforeAll(async () => {
    api = await createTestApi();
  });

  it('reads a job of the caller tenant and hides it from every other tenant', async () => {
    const id = await submit();
    expect((await api.call('GET', `/v1/jobs/${id}`)).body.jobId).toBe(id);
    for (const [method, path] of [['GET', `/v1/jobs/${id}`], ['DELETE', `/v1/jobs/${id}`], ['POST', `/v1/jobs/${id}/retry`]] as const) {
      const res = await api.call(method, path, { caller: bob });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body.code).toBe('JOB_NOT_FOUND');
    }
    expect((await api.call('GET', `/v1/jobs/${id}`)).body.status).toBe('QUEUED');
  });

  it('answers 404 JOB_NOT_FOUND for unknown and malformed ids', async () => {
    expect((await api.call('GET', '/v1/jobs/job_00000000000000000000000000000000')).body.code).toBe('JOB_NOT_FOUND');
    expect((await api.call('GET', '/v1/jobs/%E0%A4%A')).status).toBe(400);
    expect((await api.call('GET', '/v1/jobs/not-an-id')).status).toBe(404);
  });

  it('cancels a QUEUED job with 202 and a JobCancelled event, then refuses a second cancel with 409', async () => {
    const id = await submit();
    const res = await api.call('DELETE', `/v1/jobs/${id}`);
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ status: 'CANCELLED', version: 2 });
    const again = await api.call('DELETE', `/v1/jobs/${id}`);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('JOB_NOT_CANCELLABLE');
    expect((await api.outboxEventsFor(id)).map((e) => e.type)).toEqual(['JobQueued', 'JobCancelled']);
  });

  it('marks a running job cancel-requested once, without changing its status', async () => {
    const id = await submit();
    await moveJob(api.store, id, ['DISPATCHED', 'RUNNING']);
    const first = await api.call('DELETE', `/v1/jobs/${id}`);
    const second = await api.call('DELETE', `/v1/jobs/${id}`);
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ status: 'RUNNING', cancelRequested: true });
    expect(second.status).toBe(202);
    expect((await api.outboxEventsFor(id)).filter((e) => e.type === 'JobCancelRequested')).toHaveLength(1);
  });

  it.each([['FAILED'], ['DEAD_LETTERED']] as const)('retries a %s job as a new run with attempts reset', async (terminal) => {
    const id = await submit();
    await moveJob(api.store, id, ['DISPATCHED', 'RUNNING', terminal]);
    const res = await api.call('POST', `/v1/jobs/${id}/retry`);
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ status: 'QUEUED', run: 2, attempts: 0 });
    expect(res.body).not.toHaveProperty('failure');
    const events = await api.outboxEventsFor(id);
    expect(events.at(-1)).toMatchObject({ type: 'JobQueued', data: { reason: 'retried', run: 2, previousStatus: terminal } });
  });

  it('refuses to retry a job that has not failed with 409 JOB_NOT_RETRYABLE', async () => {
    const queued = await submit();
    const succeeded = await submit();
    await moveJob(api.store, succeeded, ['DISPATCHED', 'RUNNING', 'SUCCEEDED']);
    for (const id of [queued, succeeded]) {
      const res = await api.call('POST', `/v1/jobs/${id}/retry`);
      expect(res.status).toBe(409);
      expect(res.body.code).toBe('JOB_NOT_RETRYABLE');
    }
    expect((await api.call('DELETE', `/v1/jobs/${succeeded}`)).status).toBe(409);
  });

  it('lets one of two racing cancels win and the other see the new state', async () => {
    const id = await submit();
    const results = await Promise.all([api.call('DELETE', `/v1/jobs/${id}`), api.call('DELETE', `/v1/jobs/${id}`)]);
    expect(results.map((r) => r.status).sort()).toEqual([202, 409]);
    expect((await api.outboxEventsFor(id)).filter((e) => e.type === 'JobCancelled')).toHaveLength(1);
  });

  it('keeps platform-wide stats for platform admins: a tenant admin is not one', async () => {
    expect((await api.call('GET', '/v1/queues/stats', { query: { scope: 'global' } })).status).toBe(403);
    expect((await api.call('GET', '/v1/queues/stats', { caller: tenantAdmin, query: { scope: 'global' } })).status).toBe(403);
    expect((await api.call('GET', '/v1/queues/stats', { caller: root, query: { scope: 'global' } })).status).toBe(200);
  });

  it("keeps a tenant's webhook secret for its admins: a platform admin is not one", async () => {
    expect((await api.call('GET', '/v1/webhooks/secret', { caller: root })).status).toBe(403);
    expect((await api.call('GET', '/v1/webhooks/secret', { caller: tenantAdmin })).status).toBe(200);
  });
});
