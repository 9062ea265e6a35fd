import { describe, it, type TestContext } from 'vitest';
import { freePort } from '../../local/ports.ts';
import { shortJobId } from '../../local/job-lines.ts';
import { ANSI_PATTERN } from '../../local/terminal-style.ts';
import { listening, startLocalForTest, until, type Started } from '../support/local-process.ts';

/** The demo's one result line: `Demo job <id> <STATUS>: <output or failure>`. */
const DEMO_RESULT = /^Demo job (job_\w+) ([A-Z_]+): /m;
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The two runs are concurrent: each is a whole `npm start` with its own home and port, and most of each is waiting
 * on its demo job (16 s apiece one after the other, 38 s for the file).
 */
describe.skipIf(process.platform !== 'linux')('Local: what `npm start` prints', { concurrent: true }, () => {
  /** `npm start` with its demo job, as a new user runs it: the log level and format left to the entry's defaults. */
  async function startWithDemo({ expect, onTestFinished }: TestContext, env: Record<string, string>): Promise<{ started: Started; demoJobId: string }> {
    // The test runner sets POWERTOOLS_LOG_LEVEL=SILENT for its own processes; a new user's shell sets none.
    const started = startLocalForTest(onTestFinished, { PORT: String(await freePort()), FORGEFLOW_DEMO: '1', POWERTOOLS_LOG_LEVEL: '', LOG_FORMAT: '', ...env });
    await listening(started);
    expect(await until(() => DEMO_RESULT.test(started.stdout()), 150_000)).toBe(true);
    return { started, demoJobId: DEMO_RESULT.exec(started.stdout())![1]! };
  }

  async function stop({ expect }: TestContext, started: Started): Promise<void> {
    started.child.kill('SIGTERM');
    expect((await started.exit).code).toBe(0);
  }

  it('a short banner with no token, then one line per state change of the demo job, then its result', { timeout: 240_000 }, async (context) => {
    const { expect } = context;
    const { started, demoJobId } = await startWithDemo(context, {});
    const out = started.stdout();
    const lines = out.split('\n');
    const resultAt = lines.findIndex((l) => DEMO_RESULT.test(l));
    const demoLines = lines.filter((l) => l.includes(shortJobId(demoJobId)));
    await stop(context, started);

    expect(resultAt).toBeGreaterThan(0);
    expect(resultAt).toBeLessThan(15);
    expect(lines[resultAt]).toMatch(/^Demo job job_\w+ SUCCEEDED: /);
    expect(`${out}${started.stderr()}`).not.toContain('eyJ');
    // Not a terminal: no colour codes; human mode: no JSON log line on either stream.
    expect(out).not.toMatch(ANSI_PATTERN);
    expect(lines.filter((l) => l.startsWith('{'))).toEqual([]);
    expect(started.stderr().split('\n').filter((l) => l.includes('{"level":'))).toEqual([]);
    // Each state change exactly once, though the bus sees most events twice (optimistic publish and relay).
    const id = escape(shortJobId(demoJobId));
    expect(demoLines.map((l) => /→ [A-Z_]+/.exec(l)?.[0]).sort()).toEqual(['→ DISPATCHED', '→ QUEUED', '→ RUNNING', '→ SUCCEEDED']);
    expect(demoLines.find((l) => l.includes('→ SUCCEEDED'))).toMatch(new RegExp(`^\\d\\d:\\d\\d:\\d\\d  ${id}  RUNNING → SUCCEEDED  exit 0 in \\d`));
  });

  it('LOG_FORMAT=json: every structured line, the handlers’ and the job changes’', { timeout: 240_000 }, async (context) => {
    const { expect } = context;
    const { started, demoJobId } = await startWithDemo(context, { LOG_FORMAT: 'json' });
    const records = started
      .stdout()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    await stop(context, started);

    expect(records.some((r) => r.service === 'forgeflow-api' && r.message === 'request' && r.path === '/v1/jobs' && r.status === 201)).toBe(true);
    expect(records.filter((r) => r.message === 'job state changed' && r.jobId === demoJobId).map((r) => r.to).sort()).toEqual(['DISPATCHED', 'QUEUED', 'RUNNING', 'SUCCEEDED']);
    expect(started.stdout()).not.toContain('→');
  });
});
