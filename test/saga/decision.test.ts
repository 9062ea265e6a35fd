import { describe, expect, it } from 'vitest';
import { describeFailure, type FailureReason } from '../../functions/core/failure-reasons.ts';
import { retryPolicy } from '../../functions/core/retry-policy.ts';
import { categorizeError, decideAfterFailure } from '../../functions/core/saga-failure.ts';

describe('Function: decideAfterFailure', () => {
  const policy = retryPolicy({ baseSeconds: 2, capSeconds: 60, maxAttempts: 3 });
  const failure = (reason: FailureReason, retryable?: boolean) => describeFailure(reason, 'm', retryable);
  const half = () => 0.5;

  it.each([
    // [case, job, failure, expected]
    ['cancel requested wins over a retryable failure', { cancelRequested: true, attempts: 1 }, failure('NON_ZERO_EXIT_CODE'), { status: 'CANCELLED' }],
    ['cancel requested wins over exhausted attempts', { cancelRequested: true, attempts: 3 }, failure('WORKER_LOST'), { status: 'CANCELLED' }],
    ['the CANCELLED reason cancels without a request on record', { cancelRequested: false, attempts: 1 }, failure('CANCELLED'), { status: 'CANCELLED' }],
    ['a non-retryable reason fails', { cancelRequested: false, attempts: 1 }, failure('COMMAND_NOT_FOUND'), { status: 'FAILED' }],
    ['the agent may mark a retryable reason non-retryable', { cancelRequested: false, attempts: 1 }, failure('NON_ZERO_EXIT_CODE', false), { status: 'FAILED' }],
    ['non-retryable fails even with attempts exhausted', { cancelRequested: false, attempts: 3 }, failure('PERMISSION_DENIED'), { status: 'FAILED' }],
    ['retryable with attempts exhausted dead-letters', { cancelRequested: false, attempts: 3 }, failure('EXECUTION_TIMEOUT'), { status: 'DEAD_LETTERED' }],
    ['retryable with attempts left retries (ceiling 2 s after attempt 1)', { cancelRequested: false, attempts: 1 }, failure('WORKER_LOST'), { status: 'RETRY_SCHEDULED', waitSeconds: 1 }],
    ['the backoff doubles (ceiling 4 s after attempt 2)', { cancelRequested: false, attempts: 2 }, failure('INFRASTRUCTURE_ERROR'), { status: 'RETRY_SCHEDULED', waitSeconds: 2 }],
    ['a claim that never got a slot retries without using an attempt', { cancelRequested: false, attempts: 0 }, failure('INFRASTRUCTURE_ERROR'), { status: 'RETRY_SCHEDULED', waitSeconds: 1 }],
  ] as const)('%s', (_case, job, jobFailure, expected) => {
    expect(decideAfterFailure(job, jobFailure, policy, half)).toEqual(expected);
  });

  it('spreads retries over [0, ceiling] with full jitter', () => {
    const job = { cancelRequested: false, attempts: 2 };

    expect(decideAfterFailure(job, failure('WORKER_LOST'), policy, () => 0)).toEqual({ status: 'RETRY_SCHEDULED', waitSeconds: 0 });
    expect(decideAfterFailure(job, failure('WORKER_LOST'), policy, () => 0.999)).toEqual({ status: 'RETRY_SCHEDULED', waitSeconds: 4 });
  });
});

describe('Function: categorizeError', () => {
  it('keeps a catalog reason sent by the agent, with the message, the retryable override and the partial result', () => {
    const cause = JSON.stringify({ message: 'exit 3', exitCode: 3, durationMs: 50, outputTail: 'oops', retryable: false });

    expect(categorizeError({ Error: 'NON_ZERO_EXIT_CODE', Cause: cause })).toEqual({
      failure: { ...describeFailure('NON_ZERO_EXIT_CODE', 'exit 3'), retryable: false },
      result: { exitCode: 3, durationMs: 50, outputTail: 'oops' },
    });
  });

  it('turns the ClaimJob wait\'s timeouts into an infrastructure failure, never the user command\'s EXECUTION_TIMEOUT', () => {
    for (const Error of ['States.Timeout', 'States.HeartbeatTimeout']) {
      const { failure, result } = categorizeError({ Error, Cause: 'State ClaimJob had no heartbeat for 21600 s' });
      expect(failure).toMatchObject({ reason: 'INFRASTRUCTURE_ERROR', retryable: true, category: 'infrastructure' });
      expect(failure.message).toMatch(/waiting in the queue/);
      expect(result).toBeUndefined();
    }
  });

  it('keeps CANCELLED and WORKER_LOST', () => {
    expect(categorizeError({ Error: 'CANCELLED', Cause: JSON.stringify({ message: 'stopped' }) }).failure).toMatchObject({ reason: 'CANCELLED', message: 'stopped', retryable: false });
    expect(categorizeError({ Error: 'WORKER_LOST', Cause: '' }).failure).toMatchObject({ reason: 'WORKER_LOST', retryable: true });
  });

  it('reads a Lambda error cause and calls it an infrastructure error', () => {
    const cause = JSON.stringify({ errorType: 'ConcurrentModificationError', errorMessage: 'Job j was changed', trace: [] });

    const { failure } = categorizeError({ Error: 'ConcurrentModificationError', Cause: cause });

    expect(failure).toMatchObject({ reason: 'INFRASTRUCTURE_ERROR', retryable: true, category: 'infrastructure' });
    expect(failure.message).toBe('The platform failed while handling the job (ConcurrentModificationError): Job j was changed');
  });

  it.each(['States.TaskFailed', 'Lambda.ServiceException', 'NoCapacity', 'SomethingElse'])('maps %s to INFRASTRUCTURE_ERROR', (Error) => {
    expect(categorizeError({ Error, Cause: 'plain text' }).failure).toMatchObject({ reason: 'INFRASTRUCTURE_ERROR', message: expect.stringContaining('plain text') });
  });

  it('never throws, whatever the cause holds', () => {
    for (const Cause of [undefined, '', '{', 'null', '[1]', JSON.stringify({ message: 42 })]) {
      expect(() => categorizeError(Cause === undefined ? { Error: 'X' } : { Error: 'X', Cause })).not.toThrow();
    }
  });
});
