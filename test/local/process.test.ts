import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../local/ports.ts';

const ROOT = join(import.meta.dirname, '..', '..');

interface Started {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `npm start` without npm and tsx's relay process in between, so the test's signals reach the runtime itself. */
function startLocal(env: Record<string, string>): Started {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/local.ts'], {
    cwd: ROOT,
    env: { ...process.env, FORGEFLOW_DEMO: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, stdout: () => stdout, stderr: () => stderr, exit };
}

/** Resolves on the listening line; fails at once if the process exits first. */
function listening(started: Started): Promise<string> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const line = /^Forgeflow local API listening on (http:\/\/127\.0\.0\.1:\d+)$/m.exec(started.stdout());
      if (line) resolve(line[1]!);
    };
    started.child.stdout!.on('data', check);
    check();
    void started.exit.then(({ code }) => reject(new Error(`exited with ${code} before listening: ${started.stderr()}`)));
  });
}

/** DynamoDB Local Java processes whose command line names this home (its -dbPath). */
function javaProcessesFor(home: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        return cmdline.includes('DynamoDBLocal') && cmdline.includes(home);
      } catch {
        return false; // gone meanwhile
      }
    })
    .map(Number);
}

/** Waits for an OS condition with a bounded deadline; the interval is a poll, not a synchronisation sleep. */
async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return condition();
}

describe.skipIf(process.platform !== 'linux')('Local: `npm start` process', () => {
  const homes: string[] = [];
  const children: ChildProcess[] = [];

  const newHome = () => {
    const home = mkdtempSync(join(tmpdir(), 'forgeflow-process-'));
    homes.push(home);
    return home;
  };

  afterEach(() => {
    for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
  });

  it('starts, prints how to use it, and stops cleanly on SIGTERM', { timeout: 120_000 }, async () => {
    // Prepare
    const home = newHome();
    const port = await freePort();
    const started = startLocal({ FORGEFLOW_HOME: home, PORT: String(port) });
    children.push(started.child);

    // Act
    const url = await listening(started);
    const health = await fetch(`${url}/health`);
    const javaWhileRunning = javaProcessesFor(home);
    started.child.kill('SIGTERM');
    const { code } = await started.exit;

    // Assess
    expect(url).toBe(`http://127.0.0.1:${port}`);
    expect(health.status).toBe(200);
    expect(javaWhileRunning).toHaveLength(1);
    expect(code).toBe(0);
    // stop() waits for DynamoDB Local to exit, so by the time the parent is gone there is nothing to wait for.
    expect(javaProcessesFor(home)).toEqual([]);
    expect(existsSync(join(home, 'tokens.json'))).toBe(true);
    const out = started.stdout();
    expect(out).toContain(join(home, 'tokens.json'));
    expect(out).toContain(`curl -i -X POST ${url}/v1/jobs`);
    expect(out).toContain('Idempotency-Key');
    // The listening line is the last line of the start-up banner; the shutdown lines follow it.
    expect(out.split('\n').findIndex((l) => l.startsWith('Forgeflow local API listening'))).toBeGreaterThan(out.split('\n').findIndex((l) => l.includes('curl')));
    expect(started.stderr()).not.toContain('NodeVersionSupportWarning');
  });

  it('leaves no Java process behind when the parent is killed outright', { timeout: 120_000 }, async () => {
    const home = newHome();
    const started = startLocal({ FORGEFLOW_HOME: home, PORT: String(await freePort()) });
    children.push(started.child);
    await listening(started);
    const java = javaProcessesFor(home);
    expect(java).toHaveLength(1);

    started.child.kill('SIGKILL');
    await started.exit;

    // The watchdog sees its stdin close when the kernel reaps the parent, and stops Java within seconds.
    expect(await until(() => javaProcessesFor(home).length === 0, 20_000)).toBe(true);
  });

  it('says in one sentence that the port is taken and exits 1', { timeout: 60_000 }, async () => {
    const blocker = createServer();
    const port = await new Promise<number>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as { port: number }).port)));
    const home = newHome();
    try {
      const started = startLocal({ FORGEFLOW_HOME: home, PORT: String(port) });
      children.push(started.child);

      const { code } = await started.exit;

      expect(code).toBe(1);
      expect(started.stderr().trim()).toBe(`Port ${port} on 127.0.0.1 is already in use: stop whatever listens there or choose another one with PORT=<port>.`);
      expect(javaProcessesFor(home)).toEqual([]);
    } finally {
      blocker.close();
    }
  });

  it('says in one sentence that Java is missing and exits 1', { timeout: 60_000 }, async () => {
    const home = newHome();
    // node is started by absolute path, so an empty PATH hides only `java`.
    const started = startLocal({ FORGEFLOW_HOME: home, PORT: String(await freePort()), PATH: '/nonexistent' });
    children.push(started.child);

    const { code } = await started.exit;

    expect(code).toBe(1);
    expect(started.stderr().trim()).toMatch(/^DynamoDB Local needs Java 17 or newer and no `java` was found on PATH: [^\n]+$/);
  });
});
