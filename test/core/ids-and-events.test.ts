import { describe, expect, it } from 'vitest';
import { EVENT_TYPES, jobEvent, parseEvent } from '../../functions/core/events.ts';
import { FAILURE_REASONS, describeFailure } from '../../functions/core/failure-reasons.ts';
import { canonicalJson, deriveJobId, requestHash } from '../../functions/core/ids.ts';
import { JobSpecSchema, type JobRecord } from '../../functions/core/job.ts';

describe('Job ids and request hashes', () => {
  it('derives the same id for the same tenant and key, another for another tenant', () => {
    expect(deriveJobId('acme', 'k1')).toBe(deriveJobId('acme', 'k1'));
    expect(deriveJobId('acme', 'k1')).not.toBe(deriveJobId('other', 'k1'));
    expect(deriveJobId('acme', 'k1')).toMatch(/^job_[0-9a-f]{32}$/);
  });

  it('does not let tenant and key run into each other', () => {
    expect(deriveJobId('ab', 'c')).not.toBe(deriveJobId('a', 'bc'));
  });

  it('hashes requests by content after defaults, not by key order', () => {
    const a = JobSpecSchema.parse({ command: 'echo', metadata: { x: '1', y: '2' } });
    const b = JobSpecSchema.parse({ metadata: { y: '2', x: '1' }, priority: 'medium', command: 'echo' });
    const c = JobSpecSchema.parse({ command: 'echo', priority: 'high' });
    expect(requestHash(a)).toBe(requestHash(b));
    expect(requestHash(a)).not.toBe(requestHash(c));
    expect(canonicalJson({ b: 1, a: [{ d: 1, c: 2 }] })).toBe('{"a":[{"c":2,"d":1}],"b":1}');
  });
});

describe('Job spec schema', () => {
  it('applies the documented defaults', () => {
    expect(JobSpecSchema.parse({ command: 'true' })).toEqual({
      command: 'true', args: [], env: {}, priority: 'medium', timeoutSeconds: 3600, maxAttempts: 3, workerClass: 'default', metadata: {},
    });
  });

  it.each([
    [{}, 'command'],
    [{ command: '' }, 'command'],
    [{ command: 'x'.repeat(8193) }, 'command'],
    [{ command: 'x', priority: 'urgent' }, 'priority'],
    [{ command: 'x', timeoutSeconds: 0 }, 'timeoutSeconds'],
    [{ command: 'x', timeoutSeconds: 86_401 }, 'timeoutSeconds'],
    [{ command: 'x', maxAttempts: 11 }, 'maxAttempts'],
    [{ command: 'x', maxAttempts: 1.5 }, 'maxAttempts'],
    [{ command: 'x', metadata: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, 'v'])) }, 'metadata'],
    [{ command: 'x', env: { '1BAD': 'v' } }, 'env'],
    [{ command: 'x', args: [1] }, 'args'],
    [{ command: 'x', surprise: true }, ''],
  ])('rejects %j at %s', (input, path) => {
    const result = JobSpecSchema.safeParse(input);
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => i.path.join('.').split('.')[0])).toContain(path);
  });
});

describe('Events', () => {
  const job = {
    ...JobSpecSchema.parse({ command: 'true' }),
    jobId: 'job_1', tenantId: 'acme', status: 'QUEUED', version: 1, run: 1, attempts: 0, cancelRequested: false,
    createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z', createdBy: 'u1', requestHash: 'h',
  } satisfies JobRecord;

  it('builds an envelope that parses back against the catalog', () => {
    const event = jobEvent('JobQueued', job, null, { reason: 'submitted', timeoutSeconds: 3600, maxAttempts: 3 }, {
      time: job.createdAt, correlationId: 'c1',
    });
    expect(event).toMatchObject({ type: 'JobQueued', source: 'forgeflow.jobs', subject: 'job_1', tenantId: 'acme', version: 1, causationId: null });
    expect(event.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(parseEvent(JSON.parse(JSON.stringify(event)))).toEqual(event);
  });

  it('rejects data that does not fit the event type', () => {
    const event = jobEvent('JobCancelled', job, 'QUEUED', { cancelledBy: 'u1' }, { time: job.createdAt, correlationId: 'c' });
    expect(() => parseEvent({ ...event, type: 'JobSucceeded' })).toThrow(/result/);
    expect(() => parseEvent({ ...event, id: 'not-a-ulid' })).toThrow(/ULID/);
  });

  it('gives every event type a schema and ids that sort by time', () => {
    expect(EVENT_TYPES).toContain('JobQueued');
    const a = jobEvent('JobCancelled', job, 'QUEUED', { cancelledBy: 'u' }, { time: job.createdAt, correlationId: 'c' });
    const b = jobEvent('JobCancelled', job, 'QUEUED', { cancelledBy: 'u' }, { time: job.createdAt, correlationId: 'c' });
    expect(a.id < b.id).toBe(true);
  });
});

describe('Failure catalog', () => {
  it('gives every reason a category, a retry default and actions a person can follow', () => {
    for (const [reason, info] of Object.entries(FAILURE_REASONS)) {
      expect(['user', 'infrastructure'], reason).toContain(info.category);
      expect(info.suggestedActions.length, reason).toBeGreaterThan(0);
    }
    expect(Object.keys(FAILURE_REASONS)).toHaveLength(16);
  });

  it('describes a failure from the catalog, with an optional retryable override', () => {
    expect(describeFailure('COMMAND_NOT_FOUND', 'sh: foo: not found')).toMatchObject({ category: 'user', retryable: false });
    expect(describeFailure('NON_ZERO_EXIT_CODE', 'exit 1', false).retryable).toBe(false);
  });
});
