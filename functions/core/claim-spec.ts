import type * as z from 'zod';
import type { JobRecord } from './job.ts';
import type { ClaimSpecSchema, JobFacts } from './saga-messages.ts';

/** What a claim dispatches of a job: its command and where it runs. The API hands it to the execution it starts. */
export type ClaimSpec = z.infer<typeof ClaimSpecSchema>;

/** What names the job in its events (JobFacts), as the claim hands it on. */
export function jobFacts(job: JobRecord): JobFacts {
  return { tenantId: job.tenantId, priority: job.priority, workerClass: job.workerClass, createdAt: job.createdAt, ...(job.callbackUrl ? { callbackUrl: job.callbackUrl } : {}) };
}

export function claimSpec(job: JobRecord): ClaimSpec {
  return { command: job.command, args: job.args, env: job.env, timeoutSeconds: job.timeoutSeconds, workerClass: job.workerClass, priority: job.priority, facts: jobFacts(job) };
}
