import { beforeAll, describe, expect, it } from 'vitest';
import { createTestApi } from '../support/api.ts';

describe('Routing, auth and health', () => {
  let api: Awaited<ReturnType<typeof createTestApi>>;
  beforeAll(async () => {
    api = await createTestApi();
  });

  it('answers /health without a token when the store is reachable', async () => {
    const res = await api.call('GET', '/health', { caller: null });
    expect(res).toMatchObject({ status: 200, body: { status: 'ok' } });
  });

  it('requires a token everywhere else', async () => {
    const res = await api.call('GET', '/v1/jobs', { caller: null });
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('UNAUTHORIZED');
  });

  it('refuses a token without a tenant', async () => {
    const res = await api.call('GET', '/v1/jobs', { caller: { sub: 'x', tenant: '' } });
    expect(res.status).toBe(403);
  });

  it('answers 404 for an unknown route and 405 with Allow for a wrong method', async () => {
    const missing = await api.call('GET', '/v1/nothing');
    expect(missing).toMatchObject({ status: 404, body: { code: 'ROUTE_NOT_FOUND' } });
    const wrong = await api.call('PUT', '/v1/jobs');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.allow).toBe('POST, GET');
    expect(wrong.body.code).toBe('METHOD_NOT_ALLOWED');
  });

  it('echoes a well-formed correlation id and replaces a hostile one', async () => {
    const ok = await api.call('GET', '/v1/jobs', { headers: { 'x-correlation-id': 'abc-123' } });
    expect(ok.headers['x-correlation-id']).toBe('abc-123');
    const hostile = await api.call('GET', '/v1/jobs', { headers: { 'x-correlation-id': 'a\nb' } });
    expect(hostile.headers['x-correlation-id']).not.toContain('\n');
  });
});
