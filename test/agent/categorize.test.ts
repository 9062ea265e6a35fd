import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { categorizeOutcome } from '../../agent/categorize.ts';
import { runJobProcess, SHELL, type JobProcessOutcome, type RunJobProcessOptions } from '../../agent/process-runner.ts';
import type { JobFailure } from '../../functions/core/failure-reasons.ts';

const run = (command: string, options: Partial<RunJobProcessOptions> = {}) => runJobProcess({ command, timeoutSeconds: 10, ...options });

function failureOf(outcome: JobProcessOutcome): JobFailure {
  const result = categorizeOutcome(outcome);
  if (result.succeeded) throw new Error(`expected a failure, got success for ${JSON.stringify(outcome)}`);
  return result.failure;
}

const tempDir = mkdtempSync(join(tmpdir(), 'forgeflow-categorize-'));
afterAll(() => rmSync(tempDir, { recursive: true, force: true }));

describe('categorizeOutcome with real processes', () => {
  it('true succeeds', async () => {
    expect(categorizeOutcome(await run('true'))).toEqual({ succeeded: true });
  });

  it('exit 3 is NON_ZERO_EXIT_CODE with the code and the last output line', async () => {
    const outcome = await run('echo working; echo "disk full" >&2; exit 3');
    expect(outcome.exitCode).toBe(3);
    const failure = failureOf(outcome);
    expect(failure).toMatchObject({ reason: 'NON_ZERO_EXIT_CODE', category: 'user', retryable: true });
    expect(failure.message).toContain('code 3');
    expect(failure.message).toMatch(/Last output line: "(disk full|working)"/);
    expect(failure.suggestedActions.length).toBeGreaterThan(0);
  });

  it('an unknown command is COMMAND_NOT_FOUND (exit 127)', async () => {
    const outcome = await run('definitely-not-a-command-xyz');
    expect(outcome.exitCode).toBe(127);
    const failure = failureOf(outcome);
    expect(failure).toMatchObject({ reason: 'COMMAND_NOT_FOUND', retryable: false });
    expect(failure.message).toContain('definitely-not-a-command-xyz');
  });

  it('a file without execute permission is PERMISSION_DENIED (exit 126)', async () => {
    const script = join(tempDir, 'script.sh');
    writeFileSync(script, '#!/bin/sh\necho hi\n');
    chmodSync(script, 0o644);
    const outcome = await run(script);
    expect(outcome.exitCode).toBe(126);
    expect(failureOf(outcome)).toMatchObject({ reason: 'PERMISSION_DENIED', retryable: false });
  });

  it('a timeout is EXECUTION_TIMEOUT and says how long the limit was', async () => {
    const outcome = await run('echo started; sleep 30', { timeoutSeconds: 1 });
    expect(outcome.durationMs).toBeLessThan(5000);
    const failure = failureOf(outcome);
    expect(failure.reason).toBe('EXECUTION_TIMEOUT');
    expect(failure.message).toContain('1 s');
    expect(failure.message).toContain('"started"');
  });

  it('a timeout that needed SIGKILL says so', async () => {
    const failure = failureOf(await run('trap "" TERM; sleep 30', { timeoutSeconds: 1, killGraceMs: 300 }));
    expect(failure.reason).toBe('EXECUTION_TIMEOUT');
    expect(failure.message).toContain('SIGKILL');
  });

  it('a signal the agent did not send is SIGNAL_RECEIVED', async () => {
    const failure = failureOf(await run('kill -KILL $$'));
    expect(failure).toMatchObject({ reason: 'SIGNAL_RECEIVED', category: 'infrastructure', retryable: true });
    expect(failure.message).toContain('SIGKILL');
  });

  it('an abort is CANCELLED', async () => {
    const controller = new AbortController();
    const outcome = await run('echo ready; sleep 30', { signal: controller.signal, onOutput: () => controller.abort() });
    expect(failureOf(outcome)).toMatchObject({ reason: 'CANCELLED', retryable: false });
  });

  it('a missing working directory is FILE_NOT_FOUND and names it', async () => {
    const missing = join(tempDir, 'no-such-dir');
    const failure = failureOf(await run('true', { cwd: missing }));
    expect(failure).toMatchObject({ reason: 'FILE_NOT_FOUND', category: 'user', retryable: false });
    expect(failure.message).toContain(missing);
  });

  it('a NUL byte in an argument is VALIDATION_ERROR', async () => {
    expect(failureOf(await run('echo "$1"', { args: ['a\0b'] })).reason).toBe('VALIDATION_ERROR');
  });
});

describe('categorizeOutcome rules', () => {
  const base: JobProcessOutcome = {
    exitCode: 0, signal: null, durationMs: 5, outputTail: '', outputBytes: 0, timedOut: false, cancelled: false,
    killEscalated: false, pid: 1234, timeoutSeconds: 60,
  };
  const spawnFailure = (code: string, path?: string) =>
    failureOf({ ...base, exitCode: null, pid: null, spawnError: { code, message: `spawn ${code}`, ...(path ? { path } : {}) } });

  it('maps spawn errors', () => {
    expect(spawnFailure('ENOENT', '/srv/work').reason).toBe('FILE_NOT_FOUND');
    expect(spawnFailure('ENOENT', 'tool').reason).toBe('COMMAND_NOT_FOUND');
    expect(spawnFailure('ENOENT', SHELL).reason).toBe('PROCESS_SPAWN_FAILED');
    expect(spawnFailure('EACCES', '/srv/work').reason).toBe('PERMISSION_DENIED');
    expect(spawnFailure('E2BIG').reason).toBe('VALIDATION_ERROR');
    for (const code of ['EAGAIN', 'EMFILE', 'ENFILE', 'ENOMEM']) {
      expect(spawnFailure(code)).toMatchObject({ reason: 'PROCESS_SPAWN_FAILED', category: 'infrastructure', retryable: true });
      expect(spawnFailure(code).message).toContain(code);
    }
  });

  it('a stop the agent asked for wins over the exit status that followed it', () => {
    expect(failureOf({ ...base, timedOut: true, exitCode: 0 }).reason).toBe('EXECUTION_TIMEOUT');
    expect(failureOf({ ...base, cancelled: true, exitCode: null, signal: 'SIGTERM' }).reason).toBe('CANCELLED');
  });

  it('explains exit codes above 128 as a signal to a child process', () => {
    const failure = failureOf({ ...base, exitCode: 137 });
    expect(failure.reason).toBe('NON_ZERO_EXIT_CODE');
    expect(failure.message).toContain('SIGKILL');
  });

  it('quotes a cleaned, shortened last line', () => {
    const failure = failureOf({ ...base, exitCode: 1, outputTail: `ok\n\x1b[31mError: ${'x'.repeat(500)}\x1b[0m\n\n` });
    expect(failure.message).toContain('Last output line: "Error: xxx');
    expect(failure.message).not.toContain('\x1b');
    expect(failure.message.length).toBeLessThan(450);
  });
});
