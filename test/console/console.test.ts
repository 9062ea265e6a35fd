import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalRuntime, type LocalRuntime } from '../../local/runtime.ts';
import { issueToken, loadOrCreateSigningKey, type LocalTokens } from '../../local/tokens.ts';
import { SESSION_KEY, sessionFor } from '../../console/src/auth/token.ts';
import { launchBrowser, screenshot, VIEWPORT } from './browser.ts';
import { sharedDynamoDb } from '../support/dynamodb.ts';

/**
 * The console in a real browser (headless Chromium) against `npm start`'s runtime: the same API, the same tokens.
 * Every wait is on something the page shows; the console polls, so each wait is bounded by a few polls.
 */
describe('Console in a browser', { timeout: 120_000 }, () => {
  let home: string;
  let runtime: LocalRuntime;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'ff-console-'));
    // The browser first: without Chromium the tests fail at once, with the message that says how to install it.
    browser = await launchBrowser();
    runtime = await startLocalRuntime({ home, port: 0, sharedDynamoDb: sharedDynamoDb(), log: () => {} });
  });

  afterAll(async () => {
    await browser?.close();
    await runtime?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  const api = async <T>(persona: keyof LocalTokens, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const response = await fetch(`${runtime.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${runtime.tokens[persona]}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as T };
  };
  const submit = async (spec: Record<string, unknown>) => {
    const answer = await api<{ jobId: string }>('user', 'POST', '/v1/jobs', spec);
    expect(answer.status).toBe(201);
    return answer.body.jobId;
  };

  const newPage = async (init?: (context: BrowserContext) => Promise<void>): Promise<Page> => {
    const context = await browser.newContext({ viewport: VIEWPORT, locale: 'en-GB', timezoneId: 'UTC' });
    contexts.push(context);
    await init?.(context);
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    return page;
  };
  const signIn = async (persona: keyof LocalTokens, path = '/console/') => {
    const page = await newPage();
    await page.goto(`${runtime.url}${path}`);
    await page.getByTestId(`sign-in-${persona}`).click();
    await page.getByTestId('who').waitFor();
    return page;
  };
  const headerStatus = (page: Page, status: string) => page.locator('h1 [data-testid=status]', { hasText: status.replace(/_/g, ' ') });

  it('serves the console with a strict content policy, and the local personas only to loopback requests', async () => {
    const page = await fetch(`${runtime.url}/console/jobs/job_00000000000000000000000000000000`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const script = /src="(\/console\/assets\/main-[A-Z0-9]+\.js)"/.exec(await page.text())![1]!;
    const asset = await fetch(`${runtime.url}${script}`);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expect((await fetch(`${runtime.url}/console/assets/missing.js`)).status).toBe(404);

    const tokens = await fetch(`${runtime.url}/console/local-tokens.json`);
    expect(await tokens.json()).toEqual(runtime.tokens);
    // A page on another name that resolves to 127.0.0.1 (DNS rebinding) sends its own Host: it gets no token.
    expect(await statusWithHost('/console/local-tokens.json', `rebind.example:${runtime.port}`)).toBe(403);
  });

  it('shows a job submitted through the API, then follows it to SUCCEEDED with its output and timeline', async () => {
    const page = await signIn('user');
    const jobId = await submit({ command: 'echo "hello from $1"; sleep 1; echo done', args: ['the console test'], metadata: { suite: 'console' } });

    // The list polls: the new job appears without a reload.
    const row = page.locator(`[data-testid=job-row][data-job-id="${jobId}"]`);
    await row.waitFor();
    await row.getByRole('link', { name: jobId }).click();
    expect(new URL(page.url()).pathname).toBe(`/console/jobs/${jobId}`);
    expect(await page.getByTestId('command').getAttribute('data-form')).toBe('shell');

    await headerStatus(page, 'SUCCEEDED').waitFor({ timeout: 60_000 });
    await page.getByTestId('logs').filter({ hasText: 'hello from the console test' }).waitFor();
    expect(await page.getByTestId('exit-code').textContent()).toBe('0');
    const timeline = page.getByTestId('timeline-entry');
    await page.locator('[data-testid=timeline-entry][data-type=JobSucceeded]').waitFor();
    const types = await timeline.evaluateAll((entries) => entries.map((entry) => entry.getAttribute('data-type')));
    expect(types).toEqual(['JobQueued', 'JobDispatched', 'JobRunning', 'JobSucceeded']);
    // A finished job offers neither cancel nor retry.
    expect(await page.getByRole('button', { name: /Cancel job|Retry job/ }).count()).toBe(0);
    await screenshot(page, 'job');
  });

  it('submits a job from the form once, however often it is clicked, and opens its page', async () => {
    const page = await signIn('user', '/console/jobs');
    const countJobs = async () => (await api<{ items: unknown[] }>('user', 'GET', '/v1/jobs?limit=100')).body.items.length;
    const before = await countJobs();
    await page.getByTestId('new-job').click();
    const form = page.getByTestId('submit-form');
    await form.getByLabel('Program and arguments (no shell)').check();
    await form.locator('textarea[name=command]').fill('sh\n-c\necho from-the-form');
    await form.locator('select[name=priority]').selectOption('high');
    await form.locator('input[name=maxAttempts]').fill('2');
    await form.getByRole('button', { name: 'Submit job' }).dblclick();

    await page.waitForURL(/\/console\/jobs\/job_/);
    const jobId = await page.getByTestId('job-id').textContent();
    expect(new URL(page.url()).pathname).toBe(`/console/jobs/${jobId}`);
    expect(await page.getByTestId('command').getAttribute('data-form')).toBe('argv');
    await headerStatus(page, 'SUCCEEDED').waitFor({ timeout: 60_000 });
    await page.getByTestId('logs').filter({ hasText: 'from-the-form' }).waitFor();
    const job = await api<{ command: unknown; priority: string; maxAttempts: number }>('user', 'GET', `/v1/jobs/${jobId}`);
    expect(job.body).toMatchObject({ command: ['sh', '-c', 'echo from-the-form'], priority: 'high', maxAttempts: 2 });
    expect(await countJobs()).toBe(before + 1);
  });

  it("shows the API's error for a bad submit and stays on the form", async () => {
    const page = await signIn('user', '/console/jobs');
    const keys: (string | undefined)[] = [];
    page.on('request', (request) => {
      if (request.method() === 'POST' && new URL(request.url()).pathname === '/v1/jobs') keys.push(request.headers()['idempotency-key']);
    });
    await page.getByTestId('new-job').click();
    const form = page.getByTestId('submit-form');
    await form.getByLabel('Shell snippet').check();
    await form.getByRole('button', { name: 'Submit job' }).click();
    await form.getByTestId('error').filter({ hasText: 'VALIDATION_ERROR' }).waitFor();
    expect(await form.getByTestId('error').textContent()).toContain('HTTP 400');

    // The program form with no program on its first line: the API names the entry at fault.
    await form.getByLabel('Program and arguments (no shell)').check();
    await form.locator('textarea[name=command]').fill('\necho');
    await form.getByRole('button', { name: 'Submit job' }).click();
    await form.getByTestId('error').filter({ hasText: 'the first entry of a command array is the program to run' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/console/jobs');
    // One key for the form while it is open: a re-submit of it can never create a second job.
    expect(keys).toHaveLength(2);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(keys[1]).toBe(keys[0]);
  });

  it('cancels a running job from its page', async () => {
    const jobId = await submit({ command: 'echo started; sleep 30', maxAttempts: 1 });
    const page = await signIn('user', `/console/jobs/${jobId}`);
    await headerStatus(page, 'RUNNING').waitFor({ timeout: 60_000 });

    await page.getByRole('button', { name: 'Cancel job' }).click();
    await headerStatus(page, 'CANCELLED').waitFor({ timeout: 30_000 });

    expect((await api<{ status: string }>('user', 'GET', `/v1/jobs/${jobId}`)).body.status).toBe('CANCELLED');
    // CANCELLED is final: no retry (functions/core/job-actions.ts), as the API would refuse it.
    expect(await page.getByRole('button', { name: /Cancel job|Retry job/ }).count()).toBe(0);
    await page.getByTestId('failure').filter({ hasText: 'CANCELLED' }).waitFor();
  });

  it('shows a failure with its suggested actions, and retries it as a new run', async () => {
    const jobId = await submit({ command: ['sh', '-c', 'echo failing; exit 3'], maxAttempts: 1 });
    const page = await signIn('user', `/console/jobs/${jobId}`);
    expect(await page.getByTestId('command').getAttribute('data-form')).toBe('argv');
    await page.getByRole('button', { name: 'Retry job' }).waitFor({ timeout: 60_000 });
    await page.getByTestId('failure').filter({ hasText: 'NON_ZERO_EXIT_CODE' }).waitFor();
    expect(await page.getByTestId('suggested-actions').locator('li').count()).toBeGreaterThan(0);

    await page.getByRole('button', { name: 'Retry job' }).click();
    await page.getByTestId('attempts').filter({ hasText: '(run 2)' }).waitFor();
    expect((await api<{ run: number }>('user', 'GET', `/v1/jobs/${jobId}`)).body.run).toBe(2);
  });

  it("keeps another tenant's job out of its list and answers its URL with the API's 404", async () => {
    const jobId = await submit({ command: 'echo private' });
    const page = await signIn('other');
    await page.getByTestId('jobs-table').waitFor();
    expect(await page.locator(`[data-job-id="${jobId}"]`).count()).toBe(0);

    await page.goto(`${runtime.url}/console/jobs/${jobId}`);
    const error = page.getByTestId('error');
    await error.filter({ hasText: 'JOB_NOT_FOUND' }).waitFor();
    expect(await error.textContent()).toContain('HTTP 404');
    expect(await page.getByTestId('spec').count()).toBe(0);
  });

  it('shows the fleet and its controls only to the roles that may use them', async () => {
    const workers = await api<{ items: { workerId: string }[] }>('admin', 'GET', '/v1/workers');
    const workerId = workers.body.items[0]!.workerId;

    const user = await signIn('user');
    expect(await user.locator('.nav a', { hasText: 'Workers' }).count()).toBe(0);
    await user.goto(`${runtime.url}/console/workers/${workerId}`);
    await user.getByTestId('fleet-notice').waitFor();
    expect(await user.getByTestId('worker-controls').count()).toBe(0);

    const admin = await signIn('admin', '/console/workers');
    await admin.getByTestId('worker-row').first().waitFor();
    await screenshot(admin, 'workers');
    await admin.goto(`${runtime.url}/console/workers/${workerId}`);
    await admin.getByTestId('refresh-worker').click();
    await admin.getByTestId('toggle-monitoring').click();
    // Local workers are processes: the API refuses, and the console shows its code, message and details.
    await admin.getByTestId('error').filter({ hasText: 'MONITORING_NOT_APPLICABLE' }).waitFor();
    expect(await admin.getByTestId('error').textContent()).toContain(workerId);

    // An operator sees the fleet and may refresh it, but not switch billed monitoring.
    const token = await issueToken(await loadOrCreateSigningKey(home), { sub: 'local-operator', tenant: 'default', groups: ['operator'] });
    const session = JSON.stringify(sessionFor(token, 'local', 'operator'));
    const operator = await newPage(async (context) => {
      // As if this tab had signed in with the operator's token (the local personas have no operator).
      await context.addInitScript({ content: `sessionStorage.setItem(${JSON.stringify(SESSION_KEY)}, ${JSON.stringify(session)})` });
    });
    await operator.goto(`${runtime.url}/console/workers/${workerId}`);
    await operator.getByTestId('refresh-worker').waitFor();
    expect(await operator.getByTestId('toggle-monitoring').count()).toBe(0);
  });

  it('shows queued and running per priority, totals per ending, and the last hour in a chart', async () => {
    await submit({ command: 'sleep 20', priority: 'low' });
    const page = await signIn('user', '/console/jobs');
    await page.getByTestId('job-row').first().waitFor();
    await screenshot(page, 'jobs');

    await page.locator('.nav a', { hasText: 'Stats' }).click();
    await page.getByTestId('running-low').filter({ hasText: /^[1-9]/ }).waitFor({ timeout: 30_000 });
    const succeeded = Number(await page.getByTestId('total-SUCCEEDED').locator('.figure').textContent());
    expect(succeeded).toBeGreaterThanOrEqual(1);
    await page.getByTestId('throughput-chart').locator('rect.bar').first().waitFor();
    expect(await page.getByTestId('throughput-total').textContent()).toMatch(/[1-9]\d* jobs? ended in the last hour/);
    await screenshot(page, 'stats');
  });

  it('raised no script error on any page', () => {
    expect(pageErrors).toEqual([]);
  });

  function statusWithHost(path: string, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: runtime.port, path, headers: { host } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.once('error', reject);
      req.end();
    });
  }
});
