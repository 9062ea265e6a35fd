import { beforeAll, describe, expect, it } from 'vitest';
import { createTestApi } from '../support/api.ts';

/** The two forms of `command` through the real API handler: what is stored and returned, and what is refused. */
describe('POST /v1/jobs with a command array or a shell snippet', () => {
  let api: Awaited<ReturnType<typeof createTestApi>>;
  beforeAll(async () => {
    api = await createTestApi();
  });

  it('stores a command array as an array, returns it on submit and on read, and lists the job', async () => {
    const created = await api.call('POST', '/v1/jobs', { body: { command: ['sleep', '30'] } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ command: ['sleep', '30'], args: [] });
    const jobId = created.body.jobId as string;
    expect((await api.call('GET', `/v1/jobs/${jobId}`)).body).toMatchObject({ command: ['sleep', '30'] });
    expect((await api.call('GET', '/v1/jobs')).body.items!.map((item) => item.jobId)).toContain(jobId);
  });

  it('keeps a snippet that reads its args as it was', async () => {
    const created = await api.call('POST', '/v1/jobs', { body: { command: 'echo "hello $1"', args: ['world'] } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ command: 'echo "hello $1"', args: ['world'] });
  });

  it.each([
    ['args with a command array', { command: ['sleep'], args: ['30'] }, 'put the arguments in the command array: {"command": ["sleep", "30"]}'],
    ['args a snippet never reads', { command: 'sleep', args: ['30'] }, 'write {"command": ["sleep", "30"]}'],
  ])('refuses %s with 400 VALIDATION_ERROR saying what to write instead', async (_name, body, advice) => {
    const res = await api.call('POST', '/v1/jobs', { body, headers: { 'Idempotency-Key': `refused-${JSON.stringify(body)}` } });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      code: 'VALIDATION_ERROR',
      message: expect.any(String),
      details: { issues: [{ path: 'args', code: 'custom', message: expect.stringContaining(advice) }] },
    });
  });

  it('applies the payload limit to a command array too: 413 SPEC_TOO_LARGE', async () => {
    const res = await api.call('POST', '/v1/jobs', { body: { command: ['echo', ...Array.from({ length: 9 }, () => 'a'.repeat(8000))] } });
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ code: 'SPEC_TOO_LARGE', details: { limitBytes: 65_536 } });
  });
});
