import { beforeAll, describe, expect, it } from 'vitest';
import { createTestApi, alice, bob } from '../support/api.ts';

describe('POST /v1/jobs', () => {
  let api: Awaited<ReturnType<typeof createTestApi>>;
  beforeAll(async () => {
    api = await createTestApi();
  });

  it('creates a QUEUED job with defaults, a Location header and a JobQueued outbox event', async () => {
    const res = await api.call('POST', '/v1/jobs', { body: { command: 'echo hi' }, headers: { 'Idempotency-Key': 'create-1' } });
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe(`/v1/jobs/${res.body.jobId}`);
    expect(res.body).toMatchObject({ status: 'QUEUED', priority: 'medium', timeoutSeconds: 3600, maxAttempts: 3, workerClass: 'default', run: 1, attempts: 0, tenantId: 'acme', createdBy: 'alice' });
    expect(res.body).not.toHaveProperty('requestHash');
    const events = await api.outboxEventsFor(res.body.jobId as string);
    expect(events.map((e) => e.type)).toEqual(['JobQueued']);
  });

  it('replays the same key and body with 200 and Idempotent-Replayed: true', async () => {
    const body = { command: 'echo replay', metadata: { a: '1', b: '2' } };
    const first = await api.call('POST', '/v1/jobs', { body, headers: { 'Idempotency-Key': 'replay-1' } });
    const again = await api.call('POST', '/v1/jobs', { body: { metadata: { b: '2', a: '1' }, command: 'echo replay', priority: 'medium' }, headers: { 'Idempotency-Key': 'replay-1' } });
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(await api.outboxEventsFor(first.body.jobId as string)).toHaveLength(1);
  });

  it('refuses with 413 SPEC_TOO_LARGE, naming the limit, a job whose command, args and env could not fit a saga state', async () => {
    const body = { command: 'echo "$@"', args: Array.from({ length: 9 }, () => 'a'.repeat(8000)) };
    const res = await api.call('POST', '/v1/jobs', { body, headers: { 'Idempotency-Key': 'too-big-1' } });
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ code: 'SPEC_TOO_LARGE', details: { limitBytes: 65_536 } });
    expect(res.body.message).toContain('the limit is 65536 bytes');
    const fits = await api.call('POST', '/v1/jobs', { body: { command: 'echo "$@"', args: Array.from({ length: 7 }, () => 'a'.repeat(8000)) } });
    expect(fits.status).toBe(201);
  });

  it('answers 422 IDEMPOTENCY_KEY_REUSED for the same key with another body', async () => {
    await api.call('POST', '/v1/jobs', { body: { command: 'echo a' }, headers: { 'Idempotency-Key': 'reuse-1' } });
    const res = await api.call('POST', '/v1/jobs', { body: { command: 'echo b' }, headers: { 'Idempotency-Key': 'reuse-1' } });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
  });

  it('creates exactly one job from 50 concurrent identical submits', async () => {
    const body = { command: 'echo concurrent', priority: 'high' };
    const results = await Promise.all(
      Array.from({ length: 50 }, () => api.call('POST', '/v1/jobs', { body, headers: { 'Idempotency-Key': 'burst-1' } })),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 200)).toHaveLength(49);
    expect(new Set(results.map((r) => r.body.jobId)).size).toBe(1);
    expect(await api.outboxEventsFor(results[0]!.body.jobId as string)).toHaveLength(1);
    const stats = await api.call('GET', '/v1/queues/stats');
    expect((stats.body.byStatus as Record<string, Record<string, number>>).QUEUED!.high).toBe(1);
  });

  it('keeps the same key of two tenants apart', async () => {
    const a = await api.call('POST', '/v1/jobs', { caller: alice, body: { command: 'x' }, headers: { 'Idempotency-Key': 'shared' } });
    const b = await api.call('POST', '/v1/jobs', { caller: bob, body: { command: 'y' }, headers: { 'Idempotency-Key': 'shared' } });
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(a.body.jobId).not.toBe(b.body.jobId);
  });

  it('creates a new job per request without a key', async () => {
    const a = await api.call('POST', '/v1/jobs', { body: { command: 'x' } });
    const b = await api.call('POST', '/v1/jobs', { body: { command: 'x' } });
    expect(a.body.jobId).not.toBe(b.body.jobId);
  });

  it.each([
    ['malformed JSON', { rawBody: '{"command":', headers: { 'content-type': 'application/json' } }, 400, 'MALFORMED_JSON'],
    ['wrong content type', { rawBody: 'command=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['missing body', {}, 400, 'BODY_REQUIRED'],
    ['body over 256 KB', { body: { command: 'x', metadata: { big: 'y'.repeat(300_000) } } }, 413, 'PAYLOAD_TOO_LARGE'],
    ['unknown field', { body: { command: 'x', image: 'ubuntu' } }, 400, 'VALIDATION_ERROR'],
    ['wrong type', { body: { command: 42 } }, 400, 'VALIDATION_ERROR'],
    ['JSON array', { body: [] }, 400, 'VALIDATION_ERROR'],
    ['non-printable key', { body: { command: 'x' }, headers: { 'Idempotency-Key': 'a\u0001b' } }, 400, 'INVALID_IDEMPOTENCY_KEY'],
    ['key over 255 chars', { body: { command: 'x' }, headers: { 'Idempotency-Key': 'k'.repeat(256) } }, 400, 'INVALID_IDEMPOTENCY_KEY'],
  ])('refuses %s with %i %s', async (_name, options, status, code) => {
    const res = await api.call('POST', '/v1/jobs', options);
    expect(res.status).toBe(status);
    expect(res.body).toMatchObject({ code, message: expect.any(String), details: expect.any(Object) });
  });

  it('names the offending fields of an invalid body', async () => {
    const res = await api.call('POST', '/v1/jobs', { body: { command: '', timeoutSeconds: 0 } });
    const paths = (res.body.details as { issues: { path: string }[] }).issues.map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['command', 'timeoutSeconds']));
  });
});
