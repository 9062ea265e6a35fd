import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalRuntime, type LocalRuntime } from '../../local/runtime.ts';
import { writeTokens } from '../../local/tokens.ts';
import { sharedDynamoDb } from '../support/dynamodb.ts';

const ROOT = join(import.meta.dirname, '..', '..');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The real binary, as `npx forgeflow` runs it, in a child process with its own environment. */
function forgeflow(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/forgeflow.js', ...args], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A port that was free a moment ago and is closed again: connecting to it is refused. */
async function portNobodyListensOn(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('CLI: the forgeflow binary against the local runtime', { timeout: 180_000 }, () => {
  let home: string;
  let runtime: LocalRuntime;
  let env: Record<string, string>;

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'ff-cli-'));
    runtime = await startLocalRuntime({ home, port: 0, sharedDynamoDb: sharedDynamoDb(), log: () => {}, workers: 1 });
    // What `npm start` does after starting: the CLI finds its token in this file, as a developer's would.
    await writeTokens(home);
    env = { FORGEFLOW_HOME: home, FORGEFLOW_API: runtime.url };
  });

  afterAll(async () => {
    await runtime?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it("submit --wait streams the job's output and exits with the job's exit code", async () => {
    const run = await forgeflow(['submit', '--wait', '--', 'sh', '-c', 'echo hi; exit 3'], env);

    expect(run.code).toBe(3);
    expect(run.stdout.split('\n')).toContain('hi');
    // Not a terminal: plain status lines on stderr, ending with how the job ended.
    expect(run.stderr).toMatch(/^job_[0-9a-f]{32} QUEUED/m);
    expect(run.stderr).toMatch(/(FAILED|DEAD_LETTERED) after .*exit 3/);
    expect(run.stderr).not.toContain(runtime.tokens.user.slice(-20));
  });

  it('--json prints documents that parse: the submitted job, then a page that lists it', async () => {
    const submitted = await forgeflow(['--json', 'submit', '--priority', 'high', '--env', 'GREETING=hello', '--', 'echo', 'hello'], env);
    expect(submitted.code).toBe(0);
    const job = JSON.parse(submitted.stdout) as { jobId: string; command: string[]; priority: string; env: Record<string, string> };
    expect(job).toMatchObject({ command: ['echo', 'hello'], priority: 'high', env: { GREETING: 'hello' } });

    const listed = await forgeflow(['jobs', 'ls', '--priority', 'high', '--json'], env);
    expect(listed.code).toBe(0);
    const page = JSON.parse(listed.stdout) as { items: Array<{ jobId: string }>; nextCursor: string | null };
    expect(page.items.map((item) => item.jobId)).toContain(job.jobId);
  });

  it('submit-batch sends a file of jobs 25 a request, in order; sent again, each keyed job is replayed', async () => {
    const file = join(home, 'jobs.jsonl');
    const lines = Array.from({ length: 27 }, (_, i) => JSON.stringify({ idempotencyKey: `cli-batch-${i}`, job: { command: ['echo', String(i)] } }));
    writeFileSync(file, `${lines.join('\n')}\n\n`);

    const first = await forgeflow(['submit-batch', file], env);
    const again = await forgeflow(['--json', 'submit-batch', file], env);

    expect(first.code).toBe(0);
    const created = first.stdout.trim().split('\n');
    expect(created).toHaveLength(27);
    expect(created.every((line) => /^job_[0-9a-f]{32} created$/.test(line))).toBe(true);
    const replayed = again.stdout.trim().split('\n').map((line) => JSON.parse(line) as { line: number; outcome: string; job: { jobId: string; command: string[] } });
    expect(replayed.map((r) => [r.line, r.outcome])).toEqual(lines.map((_, i) => [i + 1, 'replayed']));
    expect(replayed.map((r) => r.job.jobId)).toEqual(created.map((line) => line.split(' ')[0]));
    expect(replayed[26]!.job.command).toEqual(['echo', '26']);
  });

  it('submit-batch refuses a file with a line that is not a JSON object before sending anything, with exit 64', async () => {
    const file = join(home, 'broken.jsonl');
    writeFileSync(file, '{"job":{"command":"true"}}\n{"job":\n');
    const run = await forgeflow(['submit-batch', file], env);
    expect(run.code).toBe(64);
    expect(run.stderr).toContain(`line 2 of ${file} is not a JSON object`);
    expect(run.stdout).toBe('');
  });

  it('a bad flag is a one-line error with a usage hint, and exit 64', async () => {
    const run = await forgeflow(['jobs', 'ls', '--bogus'], env);

    expect(run.code).toBe(64);
    expect(run.stdout).toBe('');
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe("error: unknown option '--bogus'");
    expect(lines[1]).toContain('--help');
  });

  it('says what went wrong, in one line and a distinct exit code: not found 1, no token 77, unreachable 69', async () => {
    const closedPort = await portNobodyListensOn();
    const [missing, noToken, refused, forbidden, asAdmin, unreachable] = await Promise.all([
      forgeflow(['jobs', 'get', `job_${'0'.repeat(32)}`], env),
      forgeflow(['jobs', 'ls'], { FORGEFLOW_API: runtime.url, FORGEFLOW_HOME: join(home, 'none') }),
      forgeflow(['jobs', 'ls', '--token', 'not-a-jwt'], env),
      forgeflow(['stats', '--global'], env),
      forgeflow(['--as', 'admin', 'stats', '--global', '--json'], env),
      forgeflow(['jobs', 'ls', '--api', `http://127.0.0.1:${closedPort}`], env),
    ]);

    expect([missing.code, missing.stderr.trim()]).toEqual([1, `forgeflow: JOB_NOT_FOUND: Job job_${'0'.repeat(32)} was not found`]);
    expect(noToken.code).toBe(77);
    expect(refused.code).toBe(77);
    expect(refused.stderr).not.toContain('not-a-jwt');
    expect(forbidden.code).toBe(77);
    expect([asAdmin.code, JSON.parse(asAdmin.stdout).scope]).toEqual([0, 'global']);
    expect(unreachable.code).toBe(69);
    expect(unreachable.stderr.trim()).toBe(`forgeflow: Could not reach http://127.0.0.1:${closedPort}: ECONNREFUSED`);
  });

  it('jobs logs prints what a job wrote; --json -f follows it as one JSON line per chunk, then its end', async () => {
    const submitted = await forgeflow(['submit', '--wait', '--shell', 'echo "hello $1"', '--', 'world'], env);
    const jobId = /^(job_[0-9a-f]{32})/m.exec(submitted.stderr)![1]!;

    const logs = await forgeflow(['jobs', 'logs', jobId], env);
    const followed = await forgeflow(['--json', 'jobs', 'logs', '-f', jobId], env);

    expect([submitted.code, submitted.stdout]).toEqual([0, 'hello world\n']);
    expect([logs.code, logs.stdout]).toEqual([0, 'hello world\n']);
    const lines = followed.stdout.trim().split('\n').map((line) => JSON.parse(line) as { event: string });
    expect(lines.at(-1)).toEqual({ event: 'end', status: 'SUCCEEDED', exitCode: 0 });
    expect(lines.slice(0, -1).every((line) => line.event === 'log')).toBe(true);
  });
});
