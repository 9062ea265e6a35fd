import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { OutputTail } from '../../agent/output-tail.ts';
import { runJobProcess, type RunJobProcessOptions } from '../../agent/process-runner.ts';

// Real processes throughout. Tests await the runner's promise; polling /proc with a deadline is used only to
// observe that a process group is gone (PID 1 may reap orphans lazily, so zombies are not counted as alive).
const run = (command: string, options: Partial<RunJobProcessOptions> = {}) => runJobProcess({ command, timeoutSeconds: 10, ...options });

function liveGroupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') members.push(Number(entry));
    } catch {
      // The process exited while we looked.
    }
  }
  return members;
}

async function remainingAfter(pgid: number, deadlineMs = 3000): Promise<number[]> {
  const deadline = Date.now() + deadlineMs;
  let members = liveGroupMembers(pgid);
  while (members.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    members = liveGroupMembers(pgid);
  }
  return members;
}

const tempDir = mkdtempSync(join(tmpdir(), 'forgeflow-runner-'));
afterAll(() => rmSync(tempDir, { recursive: true, force: true }));

describe('runJobProcess', () => {
  it('runs true and reports exit code 0', async () => {
    const outcome = await run('true');
    expect(outcome).toMatchObject({ exitCode: 0, signal: null, timedOut: false, cancelled: false, killEscalated: false, outputTail: '', outputBytes: 0 });
    expect(outcome.pid).toBeGreaterThan(0);
    expect(outcome.spawnError).toBeUndefined();
  });

  it('reports a non-zero exit code', async () => {
    expect(await run('exit 3')).toMatchObject({ exitCode: 3, signal: null, timedOut: false });
  });

  it('passes args as positional parameters without re-parsing them', async () => {
    expect((await run('echo "$1-$2"', { args: ['a', 'b'] })).outputTail).toBe('a-b\n');
    expect((await run('printf %s "$1"', { args: ['$(echo injected) ; rm -rf /'] })).outputTail).toBe('$(echo injected) ; rm -rf /');
  });

  it('gives the job its env on a minimal base and does not leak the agent environment', async () => {
    const previous = process.env.AWS_SECRET_ACCESS_KEY;
    process.env.AWS_SECRET_ACCESS_KEY = 'fake-secret-for-test';
    try {
      const { outputTail } = await run('env', { env: { GREETING: 'hello world', LANG: 'C' } });
      const vars = Object.fromEntries(outputTail.trim().split('\n').map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
      expect(vars.GREETING).toBe('hello world');
      expect(vars.LANG).toBe('C'); // The job's value wins over the base.
      expect(vars.PATH).toBeTruthy();
      expect(vars.HOME).toBeTruthy();
      expect(outputTail).not.toContain('fake-secret-for-test');
      expect(Object.keys(vars).filter((name) => !['GREETING', 'LANG', 'PATH', 'HOME', 'PWD'].includes(name))).toEqual([]);
    } finally {
      if (previous === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
      else process.env.AWS_SECRET_ACCESS_KEY = previous;
    }
  });

  it('captures stdout and stderr together and streams chunks to onOutput', async () => {
    const seen: string[] = [];
    const outcome = await run('echo out; echo err >&2', { onOutput: (chunk, stream) => seen.push(`${stream}:${chunk.toString()}`) });
    expect(outcome.outputTail).toContain('out\n');
    expect(outcome.outputTail).toContain('err\n');
    expect(seen.sort()).toEqual(['stderr:err\n', 'stdout:out\n']);
  });

  it('keeps only the last 64 KiB of 50 MB of output', async () => {
    const outcome = await run('yes | head -c 52428800');
    expect(outcome.exitCode).toBe(0);
    expect(outcome.outputBytes).toBe(52_428_800);
    expect(outcome.outputTail).toBe('y\n'.repeat(32 * 1024));
  });

  it('does not start the tail inside a multi-byte character', async () => {
    // 250 lines of "€\n" (4 bytes each); a 1003-byte tail starts 2 bytes into a "€".
    const outcome = await run("yes '€' | head -n 400", { outputTailBytes: 1003 });
    expect(outcome.outputTail).toBe(`\n${'€\n'.repeat(250)}`);
  });

  it('stops a job at its timeout and kills its whole process group', async () => {
    const outcome = await run('sleep 1000 & sleep 1000 & sleep 30', { timeoutSeconds: 1 });
    expect(outcome.timedOut).toBe(true);
    expect(outcome.cancelled).toBe(false);
    expect(outcome.durationMs).toBeLessThan(5000);
    expect(await remainingAfter(outcome.pid!)).toEqual([]);
  });

  it('SIGKILLs a job that ignores SIGTERM after the grace period', async () => {
    const outcome = await run('trap "" TERM; sleep 30', { timeoutSeconds: 1, killGraceMs: 300 });
    expect(outcome).toMatchObject({ timedOut: true, killEscalated: true, signal: 'SIGKILL', exitCode: null });
    expect(outcome.durationMs).toBeGreaterThanOrEqual(1250); // timeout + grace, less timer slack
    expect(outcome.durationMs).toBeLessThan(5000);
    expect(await remainingAfter(outcome.pid!)).toEqual([]);
  });

  it('cleans up background processes a job leaves behind when it exits', async () => {
    const outcome = await run('sleep 1000 & echo started');
    expect(outcome).toMatchObject({ exitCode: 0, outputTail: 'started\n', killEscalated: false });
    expect(outcome.durationMs).toBeLessThan(5000);
    expect(await remainingAfter(outcome.pid!)).toEqual([]);
  });

  it('SIGKILLs a left-behind process that ignores SIGTERM and does not hold the pipes', async () => {
    // The trap is set before the fork, so the child ignores SIGTERM from its first instruction (no race).
    const outcome = await run('trap "" TERM; sleep 1000 </dev/null >/dev/null 2>&1 & echo started', { killGraceMs: 300 });
    expect(outcome).toMatchObject({ exitCode: 0, killEscalated: true });
    expect(await remainingAfter(outcome.pid!)).toEqual([]);
  });

  it('does not hang when a process escapes the group while holding the output pipes', async () => {
    const outcome = await run('setsid sleep 1000 & echo $!', { killGraceMs: 300 });
    const escaped = Number(outcome.outputTail.trim());
    try {
      expect(outcome.exitCode).toBe(0);
      expect(outcome.durationMs).toBeLessThan(3000);
    } finally {
      process.kill(escaped, 'SIGKILL');
    }
  });

  it('reports a signal the job received from elsewhere', async () => {
    expect(await run('kill -KILL $$')).toMatchObject({ exitCode: null, signal: 'SIGKILL', timedOut: false, cancelled: false });
  });

  it('cancels a running job when the signal aborts', async () => {
    const controller = new AbortController();
    const outcome = await run('echo ready; sleep 1000 & sleep 30', {
      signal: controller.signal,
      onOutput: (chunk) => chunk.toString().includes('ready') && controller.abort(),
    });
    expect(outcome).toMatchObject({ cancelled: true, timedOut: false });
    expect(outcome.durationMs).toBeLessThan(5000);
    expect(await remainingAfter(outcome.pid!)).toEqual([]);
  });

  it('does not start a job whose signal is already aborted', async () => {
    expect(await run('true', { signal: AbortSignal.abort() })).toMatchObject({ cancelled: true, pid: null, exitCode: null });
  });

  it('reports spawn errors instead of rejecting', async () => {
    const missing = join(tempDir, 'missing');
    expect((await run('true', { cwd: missing })).spawnError).toMatchObject({ code: 'ENOENT', path: missing });
    const file = join(tempDir, 'a-file');
    writeFileSync(file, '');
    expect((await run('true', { cwd: file })).spawnError).toMatchObject({ code: 'ENOTDIR', path: file });
    expect((await run('echo "$1"', { args: ['nul\0byte'] })).spawnError).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
  });

  it('reports running out of file descriptors (EMFILE) instead of crashing the agent', async () => {
    // Node gives up before creating the pipes and emits 'error' on the next tick; it needs a low fd limit, so this
    // runs in a child Node process started under `ulimit -n`.
    const runnerUrl = new URL('../../agent/process-runner.ts', import.meta.url).href;
    const script = `const { runJobProcess } = await import(${JSON.stringify(runnerUrl)});
      const outcomes = await Promise.all(Array.from({ length: 30 }, () => runJobProcess({ command: 'true', timeoutSeconds: 5 })));
      console.log(JSON.stringify([...new Set(outcomes.map((o) => o.spawnError?.code ?? 'ran'))].sort()));`;
    const { stdout } = await promisify(execFile)('/bin/sh', ['-c', 'ulimit -n 40 && exec "$0" --import tsx --input-type=module -e "$1"', process.execPath, script], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
    });
    // How many jobs fit under the limit depends on what Node itself holds open; the point is that none crashed.
    const codes: string[] = JSON.parse(stdout);
    expect(codes).toContain('EMFILE');
    expect(codes.filter((code) => code !== 'EMFILE' && code !== 'ran')).toEqual([]);
  });

  it('rejects invalid options', async () => {
    await expect(runJobProcess({ command: 'true', timeoutSeconds: 0 })).rejects.toThrow(RangeError);
    await expect(runJobProcess({ command: 'true', timeoutSeconds: 1, killGraceMs: -1 })).rejects.toThrow(RangeError);
  });

  it('runs jobs concurrently without mixing their output', async () => {
    const outcomes = await Promise.all(Array.from({ length: 16 }, (_, i) => run('echo "job $1"', { args: [String(i)] })));
    expect(outcomes.map((o) => o.outputTail)).toEqual(Array.from({ length: 16 }, (_, i) => `job ${i}\n`));
  });

  it('leaves no timers, pipes or child handles behind', async () => {
    const count = () => {
      const resources = process.getActiveResourcesInfo();
      return Object.fromEntries(['ProcessWrap', 'PipeWrap', 'Timeout'].map((type) => [type, resources.filter((r) => r === type).length]));
    };
    const before = count();
    await run('sleep 1000 & echo started');
    await run('sleep 30', { timeoutSeconds: 1, killGraceMs: 100 });
    // A handle closed in the exit callback is released in the loop's close phase, after setImmediate callbacks:
    // let the loop turn twice so it is counted as gone.
    for (let turn = 0; turn < 2; turn++) await new Promise((resolve) => setImmediate(resolve));
    const after = count();
    for (const type of Object.keys(after)) expect(after[type], type).toBeLessThanOrEqual(before[type]!);
  });
});

describe('OutputTail', () => {
  it('never holds more than its capacity and keeps the last bytes', () => {
    const tail = new OutputTail(100);
    for (let i = 0; i < 1000; i++) tail.append(Buffer.from(`line ${i}\n`));
    expect(tail.allocatedBytes).toBeLessThanOrEqual(100);
    expect(tail.totalBytes).toBe(Array.from({ length: 1000 }, (_, i) => `line ${i}\n`).join('').length);
    expect(tail.toString().endsWith('line 998\nline 999\n')).toBe(true);
    expect(Buffer.byteLength(tail.toString())).toBeLessThanOrEqual(100);
    tail.append(Buffer.alloc(1000, 'x'));
    expect(tail.toString()).toBe('x'.repeat(100));
  });

  it('does not split a character when two streams interleave mid-character', () => {
    const tail = new OutputTail(64);
    const out = tail.source();
    const err = tail.source();
    const euro = Buffer.from('€'); // e2 82 ac
    out.write(euro.subarray(0, 1));
    err.write(Buffer.from('E'));
    out.write(euro.subarray(1));
    const emoji = Buffer.from('🙂'); // 4 bytes, split at every position across chunks
    for (let i = 0; i < 4; i++) out.write(emoji.subarray(i, i + 1));
    tail.flush();
    expect(tail.toString()).toBe('E€🙂');
  });

  it('flushes an incomplete final character as a replacement character, not silently', () => {
    const tail = new OutputTail();
    tail.source().write(Buffer.from([0x61, 0xe2, 0x82]));
    tail.flush();
    expect(tail.toString()).toBe('a\ufffd');
  });
});
