import { describe, expect, it } from 'vitest';
import { IllegalTransitionError } from '../../functions/core/errors.ts';
import { assertTransition, canTransition, isTerminal, JOB_STATUSES, JobStatus, TRANSITIONS } from '../../functions/core/job-status.ts';

describe('Job status transitions', () => {
  it('allows the saga path QUEUED → DISPATCHED → RUNNING → SUCCEEDED', () => {
    expect(() => {
      assertTransition(JobStatus.QUEUED, JobStatus.DISPATCHED);
      assertTransition(JobStatus.DISPATCHED, JobStatus.RUNNING);
      assertTransition(JobStatus.RUNNING, JobStatus.SUCCEEDED);
    }).not.toThrow();
  });

  it('refuses to leave SUCCEEDED or CANCELLED', () => {
    for (const to of JOB_STATUSES) {
      expect(canTransition(JobStatus.SUCCEEDED, to)).toBe(false);
      expect(canTransition(JobStatus.CANCELLED, to)).toBe(false);
    }
  });

  it('throws a typed error that names both ends of an illegal move', () => {
    const act = () => assertTransition(JobStatus.SUCCEEDED, JobStatus.QUEUED, 'job_x');
    expect(act).toThrow(IllegalTransitionError);
    try {
      act();
    } catch (error) {
      expect(error).toMatchObject({ code: 'ILLEGAL_TRANSITION', details: { from: 'SUCCEEDED', to: 'QUEUED', jobId: 'job_x' } });
    }
  });

  it('lets only FAILED and DEAD_LETTERED be re-queued', () => {
    const requeueable = JOB_STATUSES.filter((from) => from !== JobStatus.QUEUED && canTransition(from, JobStatus.QUEUED));
    expect(requeueable.sort()).toEqual([JobStatus.DEAD_LETTERED, JobStatus.FAILED]);
  });

  it('has no self-transitions and only known targets', () => {
    for (const [from, targets] of Object.entries(TRANSITIONS)) {
      expect(targets).not.toContain(from);
      for (const to of targets) expect(JOB_STATUSES).toContain(to);
    }
  });

  it('marks exactly the four terminal statuses', () => {
    expect(JOB_STATUSES.filter(isTerminal).sort()).toEqual(['CANCELLED', 'DEAD_LETTERED', 'FAILED', 'SUCCEEDED']);
  });
});
