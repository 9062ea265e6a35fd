import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestApi } from '../support/api.ts';
import { malformedRequest } from './malformed-requests.ts';

describe('API under malformed input', () => {
  let api: Awaited<ReturnType<typeof createTestApi>>;
  beforeAll(async () => {
    api = await createTestApi();
  });

  it('answers 1,200 generated malformed requests with 4xx JSON errors carrying a code, and stays healthy', async () => {
    const seen = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(malformedRequest, async (request) => {
        const res = await api.call(request.method, request.path, { rawBody: request.body, headers: request.headers, query: request.query });
        seen.set(request.defect, (seen.get(request.defect) ?? 0) + 1);
        expect(res.status, `${request.defect}: ${request.method} ${request.path}`).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
        expect(res.headers['content-type']).toMatch(/^application\/json/);
        expect(res.body).toMatchObject({ code: expect.stringMatching(/^[A-Z_]+$/), message: expect.any(String), details: expect.any(Object) });
      }),
      { numRuns: 1200 },
    );
    expect([...seen.keys()].length).toBeGreaterThanOrEqual(12);
    expect((await api.call('GET', '/health', { caller: null })).status).toBe(200);
    const ok = await api.call('POST', '/v1/jobs', { body: { command: 'still fine' } });
    expect(ok.status).toBe(201);
  }, 120_000);
});
