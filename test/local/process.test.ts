import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { javaProcessesFor, listening, startLocal, until } from '../support/local-process.ts';
import { freePort } from '../../local/ports.ts';

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
    // The banner says where the tokens are and never prints one (test/local/start-output.test.ts reads it whole).
    expect(out).not.toContain('eyJ');
    expect(out).toContain(`${url}/console`);
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
