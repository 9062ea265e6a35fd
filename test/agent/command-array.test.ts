import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { categorizeOutcome } from '../../agent/categorize.ts';
import { describeSpawnError, invocationOf, notRunExitCode } from '../../agent/job-invocation.ts';
import { resolveJobUser } from '../../agent/job-user.ts';
import { groupHasLiveMembers, runJobProcess, type JobProcessOutcome, type RunJobProcessOptions } from '../../agent/process-runner.ts';
import type { JobCommand } from '../../functions/core/job-command.ts';
import type { JobFailure } from '../../functions/core/failure-reasons.ts';

// Real processes: a command array runs its program with no shell; a string still runs under /bin/sh -c.
const run = (command: JobCommand, options: Partial<RunJobProcessOptions> = {}) => runJobProcess({ command, timeoutSeconds: 10, ...options });

function failureOf(outcome: JobProcessOutcome): JobFailure {
  const result = categorizeOutcome(outcome);
  if (result.succeeded) throw new Error(`expected a failure, got success for ${JSON.stringify(outcome)}`);
  return result.failure;
}

const tempDir = mkdtempSync(join(tmpdir(), 'forgeflow-argv-'));
afterAll(() => rmSync(tempDir, { recursive: true, force: true }));

describe('runJobProcess with a command array', () => {
  it('runs the program with its arguments and reports its exit code', async () => {
    const outcome = await run(['sh', '-c', 'exit 3']);
    expect(outcome).toMatchObject({ exitCode: 3, signal: null, timedOut: false, cancelled: false });
    expect(failureOf(outcome)).toMatchObject({ reason: 'NON_ZERO_EXIT_CODE' });
    expect(categorizeOutcome(await run(['true']))).toEqual({ succeeded: true });
  });

  it('passes every argument literally: no word splitting, no expansion', async () => {
    const outcome = await run(['printf', '%s|', 'a b', '$HOME', '*', '$(id)', '']);
    expect(outcome.outputTail).toBe('a b|$HOME|*|$(id)||');
    expect(outcome.exitCode).toBe(0);
  });

  it('looks the program up on the job PATH, as a shell would', async () => {
    const tool = join(tempDir, 'forgeflow-test-tool');
    writeFileSync(tool, '#!/bin/sh\necho "tool got $1"\n');
    chmodSync(tool, 0o755);
    const outcome = await run(['forgeflow-test-tool', 'x y'], { env: { PATH: `${tempDir}:/usr/bin:/bin` } });
    expect(outcome).toMatchObject({ exitCode: 0, outputTail: 'tool got x y\n' });
  });

  it('runs the program in its own session and process group, in the given directory', async () => {
    const outcome = await run(['cat', '/proc/self/stat'], { cwd: tempDir });
    const [pgrp, session] = outcome.outputTail.slice(outcome.outputTail.lastIndexOf(')') + 2).split(' ').slice(2, 4).map(Number);
    expect(pgrp).toBe(outcome.pid);
    expect(session).toBe(outcome.pid);
    expect((await run(['pwd'], { cwd: tempDir })).outputTail).toBe(`${tempDir}\n`);
  });

  it('gives the program only the job environment on the minimal base', async () => {
    const previous = process.env.AWS_SECRET_ACCESS_KEY;
    process.env.AWS_SECRET_ACCESS_KEY = 'fake-secret-for-argv-test';
    try {
      const { outputTail } = await run(['env'], { env: { GREETING: 'hello world' } });
      const names = outputTail.trim().split('\n').map((line) => line.slice(0, line.indexOf('=')));
      expect(names.sort()).toEqual(['GREETING', 'HOME', 'LANG', 'PATH']);
      expect(outputTail).toContain('GREETING=hello world');
    } finally {
      if (previous === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
      else process.env.AWS_SECRET_ACCESS_KEY = previous;
    }
  });

  it('stops a program that outlives its timeout, and its children', async () => {
    const outcome = await run(['sh', '-c', 'sleep 30 & sleep 30'], { timeoutSeconds: 1 });
    expect(outcome).toMatchObject({ timedOut: true, killEscalated: false });
    expect(outcome.durationMs).toBeLessThan(5000);
    // SIGTERM went to the whole group: the background sleep is gone too, not left behind on the worker.
    expect(groupHasLiveMembers(outcome.pid!)).toBe(false);
    expect(failureOf(outcome).reason).toBe('EXECUTION_TIMEOUT');
  });

  it('ends a missing program as COMMAND_NOT_FOUND with exit code 127, naming it, instead of rejecting', async () => {
    const outcome = await run(['definitely-not-a-program-xyz', '--flag']);
    expect(outcome).toMatchObject({ exitCode: 127, pid: null, spawnError: { code: 'ENOENT', program: { name: 'definitely-not-a-program-xyz', problem: 'not-found' } } });
    const failure = failureOf(outcome);
    expect(failure).toMatchObject({ reason: 'COMMAND_NOT_FOUND', category: 'user', retryable: false });
    expect(failure.message).toContain('"definitely-not-a-program-xyz"');
    expect(failure.message).toContain('PATH');
    expect(failure.message).toContain('127');
  });

  it('ends a missing program given by path the same way', async () => {
    const missing = join(tempDir, 'no-such-tool');
    const outcome = await run([missing]);
    expect(outcome.exitCode).toBe(127);
    expect(failureOf(outcome)).toMatchObject({ reason: 'COMMAND_NOT_FOUND', retryable: false, message: expect.stringContaining(missing) });
  });

  it('ends a program that is not executable as PERMISSION_DENIED with exit code 126', async () => {
    const script = join(tempDir, 'not-executable.sh');
    writeFileSync(script, '#!/bin/sh\necho hi\n');
    chmodSync(script, 0o644);
    // Root may execute any file with an execute bit, but not one without: this holds for root too.
    const outcome = await run([script]);
    expect(outcome).toMatchObject({ exitCode: 126, spawnError: { code: 'EACCES', program: { name: script, problem: 'not-executable' } } });
    expect(failureOf(outcome)).toMatchObject({ reason: 'PERMISSION_DENIED', retryable: false });
  });

  it('tells a missing program from a PATH directory the job user cannot search (both EACCES to execvp)', () => {
    const eacces = Object.assign(new Error('spawn EACCES'), { code: 'EACCES' });
    const missing = describeSpawnError(eacces, undefined, invocationOf(['no-such-program-xyz']), `/root:${tempDir}`);
    expect(missing).toMatchObject({ program: { problem: 'not-found' }, message: expect.stringContaining('was not found on the job\'s PATH') });
    expect(notRunExitCode(missing)).toBe(127);
    const present = join(tempDir, 'present-tool');
    writeFileSync(present, '#!/bin/sh\n');
    const denied = describeSpawnError(eacces, undefined, invocationOf(['present-tool']), `/root:${tempDir}`);
    expect(denied).toMatchObject({ program: { problem: 'not-executable' }, message: expect.stringContaining(present) });
    expect(notRunExitCode(denied)).toBe(126);
  });

  it('refuses args with a command array as invalid options', async () => {
    await expect(runJobProcess({ command: ['sleep'], args: ['30'], timeoutSeconds: 5 })).rejects.toThrow(RangeError);
    await expect(runJobProcess({ command: [], timeoutSeconds: 5 })).rejects.toThrow(RangeError);
  });
});

describe('runJobProcess with a shell snippet', () => {
  it('still gives args to the snippet as $1…$n', async () => {
    expect((await run('echo "$1|$2"', { args: ['a b', '$HOME'] })).outputTail).toBe('a b|$HOME\n');
  });

  it('still runs a stored job whose snippet ignores its args, as it always did', async () => {
    expect(await run('echo', { args: ['hello'] })).toMatchObject({ exitCode: 0, outputTail: '\n' });
  });
});

describe.runIf(process.getuid?.() === 0)('a command array run as the job user', () => {
  it('runs with the job user ids, in a fresh directory that is its HOME', async () => {
    const nobody = resolveJobUser('nobody');
    const outcome = await run(['sh', '-c', 'id -u; id -g; pwd; echo "$HOME"'], { user: nobody });
    const [uid, gid, cwd, home] = outcome.outputTail.trimEnd().split('\n');
    expect([uid, gid]).toEqual([String(nobody.uid), String(nobody.gid)]);
    expect(cwd).toBe(home);
    expect(cwd).not.toBe(nobody.home);
  });

  it('ends a program missing from a PATH it cannot fully search as COMMAND_NOT_FOUND (127), like a shell', async () => {
    const nobody = resolveJobUser('nobody');
    const hidden = mkdtempSync(join(tmpdir(), 'forgeflow-hidden-'));
    chmodSync(hidden, 0o700);
    try {
      const env = { PATH: `${hidden}:/usr/bin:/bin` };
      const missing = await run(['no-such-program-forgeflow'], { user: nobody, env });
      expect(missing.exitCode).toBe(127);
      expect(failureOf(missing).reason).toBe('COMMAND_NOT_FOUND');
      // The shell agrees, and a program it can reach still runs.
      expect((await run('no-such-program-forgeflow', { user: nobody, env })).exitCode).toBe(127);
      expect(await run(['true'], { user: nobody, env })).toMatchObject({ exitCode: 0 });
    } finally {
      rmSync(hidden, { recursive: true, force: true });
    }
  });
});
