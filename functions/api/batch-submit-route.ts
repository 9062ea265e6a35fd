import * as z from 'zod';
import type { BatchEntryResult, JobService } from '../core/job-service.ts';
import { JobResourceSchema, JobSpecSchema, LIMITS, toJobResource } from '../core/job.ts';
import { EXAMPLE_QUEUED_JOB } from './examples.ts';
import { errorBody, ErrorBodySchema, json, readJsonBody } from './http.ts';
import type { Route } from './router.ts';
import { IdempotencyKeySchema } from './routes.ts';

const BatchEntrySchema = z
  .strictObject({
    idempotencyKey: IdempotencyKeySchema.optional().meta({ description: 'This job\'s key, as `Idempotency-Key` is for a single submit: sending the batch again creates no second job' }),
    job: JobSpecSchema,
  })
  .meta({ id: 'JobBatchEntry' });

const JobBatchSchema = z
  .strictObject({ jobs: z.array(BatchEntrySchema).min(1).max(LIMITS.batchJobsMax) })
  .superRefine(({ jobs }, ctx) => {
    // Two entries with one key would name one job twice in one write, which DynamoDB refuses whole.
    const firstWith = new Map<string, number>();
    jobs.forEach(({ idempotencyKey }, index) => {
      if (idempotencyKey === undefined) return;
      const first = firstWith.get(idempotencyKey);
      if (first === undefined) firstWith.set(idempotencyKey, index);
      else ctx.addIssue({ code: 'custom', path: ['jobs', index, 'idempotencyKey'], message: `repeats the key of jobs[${first}]` });
    });
  })
  .meta({ id: 'JobBatch', description: `1 to ${LIMITS.batchJobsMax} jobs; keys, when given, differ` });

const BatchEntryResultSchema = z
  .discriminatedUnion('outcome', [
    z.object({ outcome: z.enum(['created', 'replayed']).meta({ description: '`replayed`: its key had already created this job, with the same spec' }), job: JobResourceSchema }),
    z.object({ outcome: z.literal('failed'), error: ErrorBodySchema }),
  ])
  .meta({ id: 'JobBatchEntryResult' });

/** One job's outcome in a batch submit's answer. */
export type JobBatchEntryResult = z.output<typeof BatchEntryResultSchema>;
/** What a batch submit takes per job. */
export type JobBatchEntryInput = z.input<typeof BatchEntrySchema>;

const JobBatchResultSchema = z
  .object({ results: z.array(BatchEntryResultSchema).meta({ description: 'One per job, in the order sent' }) })
  .meta({ id: 'JobBatchResult' });

/** `POST /v1/jobs/batch`: several jobs in one request and, in the store, one write (JobService.submitBatch). */
export function batchSubmitRoute(service: JobService): Route {
  return {
    method: 'POST',
    path: '/v1/jobs/batch',
    doc: {
      operationId: 'submitJobBatch',
      summary: 'Submit several jobs at once',
      description:
        `Queues up to ${LIMITS.batchJobsMax} jobs in one request, committed together: cheaper than as many single submits. ` +
        'A body that does not validate queues nothing (400). Otherwise each job has its own result, in order: `created`, `replayed` ' +
        '(its `idempotencyKey` had created it before, with the same spec) or `failed` with the error a single submit would have answered ' +
        '(IDEMPOTENCY_KEY_REUSED, SPEC_TOO_LARGE, CONCURRENT_MODIFICATION); the others are queued all the same. ' +
        'Sending a batch again is safe for the jobs that carry a key.',
      tag: 'Jobs',
      body: {
        schema: JobBatchSchema,
        required: true,
        description: 'The jobs, each with an optional key; unknown fields are refused',
        example: { jobs: [{ idempotencyKey: 'nightly-2026-12-01-a', job: { command: 'echo a' } }, { idempotencyKey: 'nightly-2026-12-01-b', job: { command: 'echo b', priority: 'high' } }] },
      },
      responses: {
        200: {
          description: 'Each job\'s outcome, in the order sent',
          body: JobBatchResultSchema,
          example: { results: [{ outcome: 'created', job: EXAMPLE_QUEUED_JOB }] },
        },
      },
    },
    async handle({ event, actor, correlationId }) {
      const { jobs } = JobBatchSchema.parse(readJsonBody(event, { required: true }));
      const results = await service.submitBatch(actor, jobs.map(({ job, idempotencyKey }) => ({ spec: job, ...(idempotencyKey !== undefined ? { idempotencyKey } : {}) })), correlationId);
      return json(200, { results: results.map(toEntryResult) } satisfies z.input<typeof JobBatchResultSchema>);
    },
  };
}

function toEntryResult(result: BatchEntryResult): z.input<typeof BatchEntryResultSchema> {
  if (result.outcome !== 'failed') return { outcome: result.outcome, job: toJobResource(result.job) };
  // The body a single submit would have answered with.
  return { outcome: 'failed', error: errorBody(result.error.code, result.error.message, result.error.details) };
}
