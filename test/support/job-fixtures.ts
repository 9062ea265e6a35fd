import { jobEvent } from '../../functions/core/events.ts';
import { describeFailure } from '../../functions/core/failure-reasons.ts';
import { JobStatus, assertTransition } from '../../functions/core/job-status.ts';
import type { JobRecord } from '../../functions/core/job.ts';
import type { JobStore } from '../../functions/core/ports.ts';

/**
 * Walks a stored job along legal transitions with real commits, standing in for the saga (a later issue),
 * so tests can reach FAILED or DEAD_LETTERED the way production will.
 */
export async function moveJob(store: JobStore, jobId: string, path: JobStatus[]): Promise<JobRecord> {
  let job = (await store.get(jobId))!;
  for (const to of path) {
    assertTransition(job.status, to, jobId);
    const time = new Date().toISOString();
    const next: JobRecord = { ...job, status: to, version: job.version + 1, updatedAt: time };
    const context = { time, correlationId: 'test' };
    const failure = describeFailure('NON_ZERO_EXIT_CODE', 'exit 1');
    const result = { exitCode: 0, durationMs: 1, outputTail: 'done\n' };
    const event =
      to === JobStatus.DISPATCHED ? jobEvent('JobDispatched', next, job.status, {}, context)
      : to === JobStatus.RUNNING ? jobEvent('JobRunning', next, job.status, { workerId: 'w1' }, context)
      : to === JobStatus.FAILED ? jobEvent('JobFailed', next, job.status, { failure }, context)
      : to === JobStatus.DEAD_LETTERED ? jobEvent('JobDeadLettered', next, job.status, { failure }, context)
      : to === JobStatus.SUCCEEDED ? jobEvent('JobSucceeded', next, job.status, { result }, context)
      : undefined;
    if (!event) throw new Error(`moveJob does not handle ${to}`);
    const stored =
      to === JobStatus.FAILED || to === JobStatus.DEAD_LETTERED ? { ...next, failure }
      : to === JobStatus.SUCCEEDED ? { ...next, result }
      : next;
    await store.commit({ job: stored, expected: { status: job.status, version: job.version }, event, statusMove: { from: job.status, to, priority: job.priority } });
    job = stored;
  }
  return job;
}
