import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'vitest';

export const ROOT = join(import.meta.dirname, '..', '..');

export interface Started {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `npm start` (bin/local.js, from its bundle) without npm in between, so the test's signals reach the runtime itself. */
export function startLocal(env: Record<string, string>): Started {
  const child = spawn(process.execPath, ['bin/local.js'], {
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

/**
 * `npm start` in a new home of its own, killed and its home removed when the test ends: the cleanup is the test's own,
 * so tests that start one each can run concurrently.
 */
export function startLocalForTest(onTestFinished: TestContext['onTestFinished'], env: Record<string, string> = {}): Started & { home: string } {
  const home = mkdtempSync(join(tmpdir(), 'ff-local-process-'));
  const started = startLocal({ FORGEFLOW_HOME: home, ...env });
  onTestFinished(() => {
    if (started.child.exitCode === null && started.child.signalCode === null) started.child.kill('SIGKILL');
    rmSync(home, { recursive: true, force: true });
  });
  return { ...started, home };
}

/** Resolves on the banner's API line (local/terminal.ts); fails at once if the process exits first. */
export function listening(started: Started): Promise<string> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const line = /^ {2}API +(http:\/\/127\.0\.0\.1:\d+)$/m.exec(started.stdout());
      if (line) resolve(line[1]!);
    };
    started.child.stdout!.on('data', check);
    check();
    void started.exit.then(({ code }) => reject(new Error(`exited with ${code} before listening: ${started.stderr()}`)));
  });
}

/** DynamoDB Local Java processes whose command line names this home (its -dbPath). */
export function javaProcessesFor(home: string): number[] {
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
export async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return condition();
}

