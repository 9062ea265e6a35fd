import { describe, expect, it } from 'vitest';
import { ForgeflowApiError, ForgeflowNetworkError, type Job } from '../../client/index.ts';
import { exitCodeOf } from '../../cli/errors.ts';
import { EXIT } from '../../cli/exit-codes.ts';
import { exitCodeOfJob } from '../../cli/wait.ts';
import { MissingTokenError } from '../../cli/config.ts';

const ended = (fields: Partial<Job>): Job => ({ jobId: 'job_x', status: 'FAILED', attempts: 1, maxAttempts: 1, ...fields }) as Job;
const failure = (category: 'user' | 'infrastructure') => ({ reason: 'NON_ZERO_EXIT_CODE', message: '', category, retryable: false, suggestedActions: [] }) as unknown as Job['failure'];

describe('CLI: exit codes', () => {
  it("exits with a waited-for job's own code, or 70 when it ended without one", () => {
    expect(exitCodeOfJob(ended({ status: 'SUCCEEDED', result: { exitCode: 0, durationMs: 1, outputTail: '' } }))).toBe(0);
    expect(exitCodeOfJob(ended({ status: 'FAILED', result: { exitCode: 3, durationMs: 1, outputTail: '' }, failure: failure('user') }))).toBe(3);
    expect(exitCodeOfJob(ended({ status: 'DEAD_LETTERED', result: { exitCode: 127, durationMs: 1, outputTail: '' }, failure: failure('user') }))).toBe(127);
    // Killed by a signal or timed out: no exit code of its own.
    expect(exitCodeOfJob(ended({ status: 'FAILED', result: { exitCode: null, durationMs: 1, outputTail: '' }, failure: failure('user') }))).toBe(EXIT.PLATFORM);
    // An earlier attempt's exit code does not speak for a run the platform lost.
    expect(exitCodeOfJob(ended({ status: 'DEAD_LETTERED', result: { exitCode: 2, durationMs: 1, outputTail: '' }, failure: failure('infrastructure') }))).toBe(EXIT.PLATFORM);
    expect(exitCodeOfJob(ended({ status: 'CANCELLED', result: { exitCode: 0, durationMs: 1, outputTail: '' } }))).toBe(EXIT.PLATFORM);
  });

  it('maps what went wrong to distinct codes: usage, auth, unreachable, refused, platform', () => {
    expect(exitCodeOf(new MissingTokenError('x'))).toBe(EXIT.AUTH);
    expect(exitCodeOf(new ForgeflowApiError(401, 'UNAUTHORIZED', 'x'))).toBe(EXIT.AUTH);
    expect(exitCodeOf(new ForgeflowApiError(403, 'FORBIDDEN', 'x'))).toBe(EXIT.AUTH);
    expect(exitCodeOf(new ForgeflowNetworkError('x', 'http://127.0.0.1:1'))).toBe(EXIT.UNAVAILABLE);
    expect(exitCodeOf(new ForgeflowApiError(429, 'RATE_LIMITED', 'x'))).toBe(EXIT.UNAVAILABLE);
    expect(exitCodeOf(new ForgeflowApiError(404, 'JOB_NOT_FOUND', 'x'))).toBe(EXIT.API_ERROR);
    expect(exitCodeOf(new ForgeflowApiError(500, 'INTERNAL_ERROR', 'x'))).toBe(EXIT.PLATFORM);
  });
});
