import { describe, expect, it } from 'vitest';
import { identityOf } from '../../functions/core/claims.ts';
import { canCancel, canRetry } from '../../functions/core/job-actions.ts';
import { JOB_STATUSES, isTerminal } from '../../functions/core/job-status.ts';
import { serveConsole, type ConsoleAssets } from '../../console/site.ts';
import { phasesOf, timelineOf, type TimelineEvent } from '../../console/src/timeline.ts';
import { niceMax, throughputBuckets } from '../../console/src/throughput.ts';
import { specOf, type JobFormValues } from '../../console/src/job-form.ts';
import { JobSpecSchema } from '../../functions/core/job.ts';
import { isLoopbackHost } from '../../local/console-site.ts';
import { chromiumPath } from './browser.ts';

const at = (seconds: number) => new Date(Date.UTC(2026, 0, 1, 12, 0, 0) + seconds * 1000).toISOString();
const event = (type: string, seconds: number, data: Record<string, unknown> = {}): TimelineEvent => ({ id: `${type}-${seconds}`, type, time: at(seconds), data });

describe('Console: the saga timeline', () => {
  const events = [
    event('JobQueued', 0, { status: 'QUEUED', reason: 'submitted', attempts: 0 }),
    event('JobDispatched', 1.5, { status: 'DISPATCHED', attempts: 1 }),
    event('JobRunning', 2, { status: 'RUNNING', workerId: 'w-1', attempts: 1 }),
    event('JobCancelRequested', 3, { status: 'RUNNING', requestedBy: 'local-user' }),
    event('JobCancelled', 7, { status: 'CANCELLED', cancelledBy: 'local-user' }),
  ];

  it('gives each event its offset from the first and the time since the one before', () => {
    const entries = timelineOf(events);
    expect(entries.map((e) => [e.type, e.sinceStart, e.sincePrevious])).toEqual([
      ['JobQueued', 0, null],
      ['JobDispatched', 1500, 1500],
      ['JobRunning', 2000, 500],
      ['JobCancelRequested', 3000, 1000],
      ['JobCancelled', 7000, 4000],
    ]);
    expect(entries[2]!.detail).toBe('running on w-1');
    expect(entries[3]!.detail).toBe('cancel requested by local-user');
  });

  it('turns status changes into phases: a cancel request is no phase, the end is a point', () => {
    const phases = phasesOf(timelineOf(events), true, Date.parse(at(100)));
    expect(phases.map((p) => [p.status, p.durationMs, p.open])).toEqual([
      ['QUEUED', 1500, false],
      ['DISPATCHED', 500, false],
      ['RUNNING', 5000, false],
    ]);
  });

  it('lets the last phase of a job that has not ended run until now', () => {
    const phases = phasesOf(timelineOf(events.slice(0, 3)), false, Date.parse(at(10)));
    expect(phases.at(-1)).toEqual({ status: 'RUNNING', startMs: 2000, durationMs: 8000, open: true });
  });
});

describe('Console: throughput per minute', () => {
  const now = Date.parse('2026-01-01T12:00:30Z');

  it('counts ended jobs by the minute of their finish, over the last hour, by how they ended', () => {
    const buckets = throughputBuckets(
      [
        { status: 'SUCCEEDED', finishedAt: '2026-01-01T12:00:10Z' },
        { status: 'SUCCEEDED', finishedAt: '2026-01-01T12:00:59Z' },
        { status: 'FAILED', finishedAt: '2026-01-01T11:59:00Z' },
        { status: 'DEAD_LETTERED', finishedAt: '2026-01-01T11:01:00Z' },
        // Out of the window, or not ended: not counted.
        { status: 'SUCCEEDED', finishedAt: '2026-01-01T10:59:59Z' },
        { status: 'RUNNING' },
        { status: 'SUCCEEDED' },
      ],
      now,
    );
    expect(buckets).toHaveLength(60);
    expect(buckets.at(-1)).toMatchObject({ start: Date.parse('2026-01-01T12:00:00Z'), total: 2, counts: { SUCCEEDED: 2 } });
    expect(buckets.at(-2)).toMatchObject({ total: 1, counts: { FAILED: 1 } });
    expect(buckets[0]).toMatchObject({ start: Date.parse('2026-01-01T11:01:00Z'), total: 1, counts: { DEAD_LETTERED: 1 } });
    expect(buckets.reduce((sum, b) => sum + b.total, 0)).toBe(4);
  });

  it('rounds the axis up to 1, 2 or 5 times a power of ten', () => {
    expect([0, 1, 3, 7, 10, 11, 43, 180].map(niceMax)).toEqual([1, 1, 5, 10, 10, 20, 50, 200]);
  });
});

describe('Console: who may do what', () => {
  it('offers cancel for every job that has not ended, and retry for FAILED and DEAD_LETTERED only', () => {
    for (const status of JOB_STATUSES) expect(canCancel(status), status).toBe(!isTerminal(status));
    expect(JOB_STATUSES.filter(canRetry)).toEqual(['FAILED', 'DEAD_LETTERED']);
  });

  it('reads Cognito ID tokens, local tokens and API Gateway claim strings alike', () => {
    expect(identityOf({ sub: 'u1', 'custom:tenant': 'acme', 'cognito:groups': ['operator'] })).toEqual({ sub: 'u1', tenant: 'acme', groups: ['operator'] });
    expect(identityOf({ sub: 'u2', tenant: 'default', groups: '[admin platform-admin]' })).toEqual({ sub: 'u2', tenant: 'default', groups: ['admin', 'platform-admin'] });
    expect(identityOf({ sub: '', tenant: 'bad tenant!' })).toEqual({ groups: [] });
  });
});

describe('Console: serving the files', () => {
  const assets: ConsoleAssets = new Map([
    ['/console/index.html', { contentType: 'text/html; charset=utf-8', body: '<html></html>', immutable: false }],
    ['/console/assets/main-ABC.js', { contentType: 'text/javascript; charset=utf-8', body: 'x', immutable: true }],
  ]);
  const cognito = { auth: { kind: 'cognito' as const, domain: 'https://ff.auth.eu-west-1.amazoncognito.com', clientId: 'abc' } };

  it('serves index.html for page paths, hashed files for good, and 404 for a missing file', () => {
    expect(serveConsole(assets, 'GET', '/console/jobs/job_1', cognito)).toMatchObject({ statusCode: 200, body: '<html></html>', headers: { 'cache-control': 'no-cache' } });
    expect(serveConsole(assets, 'GET', '/console/assets/main-ABC.js', cognito)).toMatchObject({ statusCode: 200, headers: { 'cache-control': 'public, max-age=31536000, immutable' } });
    expect(serveConsole(assets, 'GET', '/console/assets/main-OLD.js', cognito)?.statusCode).toBe(404);
    expect(serveConsole(assets, 'GET', '/console/favicon.ico', cognito)?.statusCode).toBe(404);
    // The local personas' tokens are the local gateway's alone: the shared server (the console function) has none.
    expect(serveConsole(assets, 'GET', '/console/local-tokens.json', cognito)?.statusCode).toBe(404);
    expect(serveConsole(assets, 'HEAD', '/console/', cognito)).toMatchObject({ statusCode: 200, body: '' });
  });

  it('serves the page at /console too, refuses other methods, and leaves other paths alone', () => {
    expect(serveConsole(assets, 'GET', '/console', cognito)).toMatchObject({ statusCode: 200, body: '<html></html>' });
    expect(serveConsole(assets, 'POST', '/console/', cognito)).toMatchObject({ statusCode: 405, headers: { allow: 'GET, HEAD' } });
    expect(serveConsole(assets, 'GET', '/consoles', cognito)).toBeUndefined();
    expect(serveConsole(assets, 'GET', '/v1/jobs', cognito)).toBeUndefined();
  });

  it('serves its sign-in configuration and lets the page reach only its origin and the user pool domain', () => {
    const config = serveConsole(assets, 'GET', '/console/config.json', cognito)!;
    expect(JSON.parse(config.body!)).toEqual(cognito);
    const csp = (config.headers!['content-security-policy'] as string).split('; ');
    expect(csp).toContain("connect-src 'self' https://ff.auth.eu-west-1.amazoncognito.com");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
  });

  it('hands local tokens only to requests addressed to a loopback name on its port', () => {
    expect(isLoopbackHost('127.0.0.1:3000', 3000)).toBe(true);
    expect(isLoopbackHost('localhost:3000', 3000)).toBe(true);
    expect(isLoopbackHost('127.0.0.1:3001', 3000)).toBe(false);
    expect(isLoopbackHost('attacker.example:3000', 3000)).toBe(false);
    expect(isLoopbackHost(undefined, 3000)).toBe(false);
  });
});

describe('Console: the browser the tests drive', () => {
  it('fails with the command that installs Chromium when there is none', () => {
    const saved = process.env.CHROMIUM_PATH;
    process.env.CHROMIUM_PATH = '/nonexistent/chromium';
    try {
      expect(() => chromiumPath()).toThrow(/apt-get install chromium/);
    } finally {
      if (saved === undefined) delete process.env.CHROMIUM_PATH;
      else process.env.CHROMIUM_PATH = saved;
    }
  });
});

describe('Console: the submit form', () => {
  const values = (patch: Partial<JobFormValues>): JobFormValues => ({ form: 'argv', command: '', priority: 'medium', timeoutSeconds: '', maxAttempts: '', ...patch });

  it('sends one argv entry a line, keeping empty arguments but not the trailing newline', () => {
    const spec = specOf(values({ command: 'printf\r\n%s|%s\n\nlast\n\n' }));
    expect(spec.command).toEqual(['printf', '%s|%s', '', 'last']);
    expect(JobSpecSchema.parse(spec).command).toEqual(['printf', '%s|%s', '', 'last']);
  });

  it('sends a snippet as written, and numbers only when they were filled in', () => {
    expect(specOf(values({ form: 'shell', command: 'echo a\necho b\n', priority: 'low' }))).toEqual({ command: 'echo a\necho b\n', priority: 'low' });
    expect(specOf(values({ command: 'true', timeoutSeconds: ' 30 ', maxAttempts: '2' }))).toMatchObject({ timeoutSeconds: 30, maxAttempts: 2 });
    // What the API refuses goes to it as typed, so its error (not a silent default) is what the user sees.
    expect(JobSpecSchema.safeParse(specOf(values({ command: 'true', timeoutSeconds: '1.5' }))).success).toBe(false);
  });
});
