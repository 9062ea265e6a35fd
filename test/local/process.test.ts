import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { javaProcessesFor, listening, startLocalForTest, until } from '../support/local-process.ts';
import { freePort } from '../../local/ports.ts';

/** Each test starts its own `npm start` in its own home, so they run concurrently (29 s one after the other). */
describe.skipIf(process.platform !== 'linux')('Local: `npm start` process', { concurrent: true }, () => {
  it('starts, prints how to use it, and stops cleanly on SIGTERM', { timeout: 120_000 }, async ({ expect, onTestFinished }) => {
    // Prepare
    const port = await freePort();
    const started = startLocalForTest(onTestFinished, { PORT: String(port) });
    const { home } = started;

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

  it('leaves no Java process behind when the parent is killed outright', { timeout: 120_000 }, async ({ expect, onTestFinished }) => {
    const started = startLocalForTest(onTestFinished, { PORT: String(await freePort()) });
    await listening(started);
    expect(javaProcessesFor(started.home)).toHaveLength(1);

    started.child.kill('SIGKILL');
    await started.exit;

    // The watchdog sees its stdin close when the kernel reaps the parent, and stops Java within seconds.
    expect(await until(() => javaProcessesFor(started.home).length === 0, 20_000)).toBe(true);
  });

  it('says in one sentence that the port is taken and exits 1', { timeout: 60_000 }, async ({ expect, onTestFinished }) => {
    const blocker = createServer();
    const port = await new Promise<number>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as { port: number }).port)));
    onTestFinished(() => void blocker.close());
    const started = startLocalForTest(onTestFinished, { PORT: String(port) });

    const { code } = await started.exit;

    expect(code).toBe(1);
    expect(started.stderr().trim()).toBe(`Port ${port} on 127.0.0.1 is already in use: stop whatever listens there or choose another one with PORT=<port>.`);
    expect(javaProcessesFor(started.home)).toEqual([]);
  });

  it('says in one sentence that Java is missing and exits 1', { timeout: 60_000 }, async ({ expect, onTestFinished }) => {
    // node is started by absolute path, so an empty PATH hides only `java`.
    const started = startLocalForTest(onTestFinished, { PORT: String(await freePort()), PATH: '/nonexistent' });

    const { code } = await started.exit;

    expect(code).toBe(1);
    expect(started.stderr().trim()).toMatch(/^DynamoDB Local needs Java 17 or newer and no `java` was found on PATH: [^\n]+$/);
  });
});
