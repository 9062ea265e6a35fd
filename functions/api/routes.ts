import * as z from 'zod';
import { EventResourceSchema } from '../core/events.ts';
import { JOB_ID_PATTERN } from '../core/ids.ts';
import { JobResourceSchema, JobSpecSchema, JobStatusSchema, JobSummarySchema, PrioritySchema, toJobResource } from '../core/job.ts';
import type { JobService } from '../core/job-service.ts';
import type { JobStore } from '../core/ports.ts';
import { QueueStatsSchema } from '../core/stats.ts';
import type { EventHistory } from '../adapters/dynamodb/event-history.ts';
import { PUBLIC_ROUTES } from '../declarations/public-routes.ts';
import { EXAMPLE_EVENT, EXAMPLE_JOB, EXAMPLE_JOB_ID, EXAMPLE_JOB_SUMMARY, EXAMPLE_QUEUED_JOB, EXAMPLE_STATS } from './examples.ts';
import { header, httpError, json, readJsonBody, statusOf, type HttpEvent } from './http.ts';
import { cursorParam, limitParam, pageBody, pageSchema } from './page.ts';
import type { RouteDoc } from './route-doc.ts';
import type { Route } from './router.ts';

/** RFC draft "The Idempotency-Key HTTP Header Field": we accept 1–255 printable ASCII characters. */
export const IdempotencyKeySchema = z.string().min(1).max(255).regex(/^[\x20-\x7E]+$/, 'printable ASCII only');

const ListQuerySchema = z.strictObject({
  status: JobStatusSchema.optional(),
  priority: PrioritySchema.optional(),
  limit: limitParam(20),
  cursor: cursorParam,
});

const STATS_SCOPES = ['tenant', 'global'] as const;
const StatsQuerySchema = z.strictObject({
  scope: z.enum(STATS_SCOPES).default('tenant').meta({ description: "`tenant`: the caller's tenant; `global`: the whole platform (platform admins only)" }),
});
export const ScopedStatsSchema = QueueStatsSchema.extend({ scope: z.enum(STATS_SCOPES) }).meta({ id: 'ScopedQueueStats' });

const JobIdSchema = z.string().regex(JOB_ID_PATTERN);

/** The `{id}` of a job route, as documented (jobIdParam applies the same schema). */
export const JobIdParamsSchema = z.object({
  id: JobIdSchema.meta({ description: "A job's id; one that is malformed, unknown or of another tenant answers 404 JOB_NOT_FOUND", example: EXAMPLE_JOB_ID }),
});

/** The retry takes no options yet; a body, if sent, must still be well-formed JSON and empty of fields. */
const RetryBodySchema = z.strictObject({}).meta({ description: 'No options yet: send no body, or `{}`' });

const HealthSchema = z.object({ status: z.literal('ok'), store: z.literal('reachable') }).meta({ id: 'Health' });

/** The events of a job or a worker, one page. */
export const EventPageSchema = pageSchema(EventResourceSchema, 'EventPage');

export const jobLocation = z.string().meta({ description: "The job's URL", example: `/v1/jobs/${EXAMPLE_JOB_ID}` });

export function jobIdParam(params: Record<string, string>): string {
  const result = JobIdSchema.safeParse(params.id);
  // A malformed id can never name a job: answer as for any unknown job.
  if (!result.success) throw httpError('JOB_NOT_FOUND', `Job ${params.id} was not found`, { jobId: params.id });
  return result.data;
}

export function query(event: HttpEvent) {
  return event.queryStringParameters ?? {};
}

function idempotencyKey(event: HttpEvent): string | undefined {
  const raw = header(event, 'idempotency-key');
  if (raw === undefined) return undefined;
  const result = IdempotencyKeySchema.safeParse(raw);
  if (!result.success) {
    throw httpError('INVALID_IDEMPOTENCY_KEY', 'Idempotency-Key must be 1-255 printable ASCII characters');
  }
  return result.data;
}

/** `limit` and `cursor` of a list that belongs to one resource (a job's events, a worker's events). */
export const PageQuerySchema = z.strictObject({ limit: limitParam(50), cursor: cursorParam });

/** What a jobPageRoute documents of itself; parameters, query and errors are the same for all. */
export interface JobPageDoc extends Pick<RouteDoc, 'operationId' | 'summary' | 'description' | 'tag'> {
  page: z.ZodType;
  example: unknown;
}

/**
 * A paginated list that belongs to one job (its events, its webhook deliveries): the job is read first, so another
 * tenant's job id answers 404 like a missing one.
 */
export function jobPageRoute(
  path: string,
  service: JobService,
  list: (jobId: string, limit: number, cursor?: string) => Promise<{ items: unknown[]; nextCursor?: string }>,
  { page, example, ...doc }: JobPageDoc,
): Route {
  return {
    method: 'GET',
    path,
    doc: {
      ...doc,
      params: JobIdParamsSchema,
      query: PageQuerySchema,
      responses: { 200: { description: 'One page, oldest first', body: page, example } },
      errors: ['JOB_NOT_FOUND', 'INVALID_CURSOR'],
    },
    async handle({ event, params, actor }) {
      const { limit, cursor } = PageQuerySchema.parse(query(event));
      const job = await service.get(actor, jobIdParam(params));
      return json(200, pageBody(await list(job.jobId, limit, cursor)));
    },
  };
}

export interface RouteDeps {
  service: JobService;
  store: JobStore;
  history: EventHistory;
}

export function jobRoutes({ service, store, history }: RouteDeps): Route[] {
  return [
    {
      method: PUBLIC_ROUTES.health.method,
      path: PUBLIC_ROUTES.health.path,
      public: true,
      doc: {
        operationId: 'getHealth',
        summary: 'Whether the API and its job store answer',
        description: 'For probes and uptime checks: it says nothing about any tenant.',
        tag: 'Platform',
        responses: { 200: { description: 'The store answers', body: HealthSchema, example: { status: 'ok', store: 'reachable' } } },
        errors: ['STORE_UNREACHABLE'],
      },
      async handle() {
        try {
          await store.ping();
          return json(200, { status: 'ok', store: 'reachable' } satisfies z.output<typeof HealthSchema>);
        } catch (error) {
          return json(statusOf('STORE_UNREACHABLE'), { code: 'STORE_UNREACHABLE', message: 'The job store does not answer', details: { reason: (error as Error).name } });
        }
      },
    },
    {
      method: 'POST',
      path: '/v1/jobs',
      doc: {
        operationId: 'submitJob',
        summary: 'Submit a job',
        description:
          'Queues a job. With an `Idempotency-Key`, sending the same request again is safe: it answers 200 with the job the first one created ' +
          '(`Idempotent-Replayed: true`) and never creates a second; the same key with another body is 422 IDEMPOTENCY_KEY_REUSED.',
        tag: 'Jobs',
        headers: z.object({ 'Idempotency-Key': IdempotencyKeySchema.optional().meta({ description: '1-255 printable ASCII characters; makes a retried submit safe' }) }),
        body: { schema: JobSpecSchema, required: true, description: 'The job; unknown fields are refused', example: { command: 'echo hello && sleep 2', priority: 'high', timeoutSeconds: 60 } },
        responses: {
          201: { description: 'Queued', body: JobResourceSchema, headers: z.object({ Location: jobLocation }), example: EXAMPLE_QUEUED_JOB },
          200: {
            description: 'A replay: this Idempotency-Key already created this job, with the same body',
            body: JobResourceSchema,
            headers: z.object({ Location: jobLocation, 'Idempotent-Replayed': z.literal('true').meta({ description: 'The job existed already' }) }),
            example: EXAMPLE_JOB,
          },
        },
        errors: ['INVALID_IDEMPOTENCY_KEY', 'IDEMPOTENCY_KEY_REUSED', 'SPEC_TOO_LARGE', 'CONCURRENT_MODIFICATION'],
      },
      async handle({ event, actor, correlationId }) {
        const key = idempotencyKey(event);
        const spec = JobSpecSchema.parse(readJsonBody(event, { required: true }));
        const { job, replayed } = await service.submit(actor, spec, key, correlationId);
        const headers: Record<string, string> = { location: `/v1/jobs/${job.jobId}` };
        if (replayed) headers['idempotent-replayed'] = 'true';
        return json(replayed ? 200 : 201, toJobResource(job), headers);
      },
    },
    {
      method: 'GET',
      path: '/v1/jobs',
      doc: {
        operationId: 'listJobs',
        summary: "List the tenant's jobs",
        description: 'Newest first, as summaries (GET one job for its command, environment and result); served by indexes, never a scan.',
        tag: 'Jobs',
        query: ListQuerySchema,
        responses: { 200: { description: 'One page', body: pageSchema(JobSummarySchema, 'JobPage'), example: { items: [EXAMPLE_JOB_SUMMARY], nextCursor: null } } },
        errors: ['INVALID_CURSOR'],
      },
      async handle({ event, actor }) {
        const q = ListQuerySchema.parse(query(event));
        return json(200, pageBody(await service.list(actor, q)));
      },
    },
    {
      method: 'GET',
      path: '/v1/jobs/{id}',
      doc: {
        operationId: 'getJob',
        summary: 'Get a job',
        tag: 'Jobs',
        params: JobIdParamsSchema,
        responses: { 200: { description: 'The job', body: JobResourceSchema, example: EXAMPLE_JOB } },
        errors: ['JOB_NOT_FOUND'],
      },
      async handle({ params, actor }) {
        return json(200, toJobResource(await service.get(actor, jobIdParam(params))));
      },
    },
    {
      method: 'DELETE',
      path: '/v1/jobs/{id}',
      doc: {
        operationId: 'cancelJob',
        summary: 'Cancel a job',
        description:
          'A waiting job (QUEUED, RETRY_SCHEDULED) is CANCELLED at once; a running one is marked `cancelRequested` and its worker stops it. ' +
          'Cancelling twice changes nothing; a job that has ended is 409 JOB_NOT_CANCELLABLE.',
        tag: 'Jobs',
        params: JobIdParamsSchema,
        responses: { 202: { description: 'The job after the request', body: JobResourceSchema, example: { ...EXAMPLE_QUEUED_JOB, status: 'CANCELLED', cancelRequested: true, version: 2 } } },
        errors: ['JOB_NOT_FOUND', 'JOB_NOT_CANCELLABLE', 'CONCURRENT_MODIFICATION'],
      },
      async handle({ params, actor, correlationId }) {
        return json(202, toJobResource(await service.cancel(actor, jobIdParam(params), correlationId)));
      },
    },
    {
      method: 'POST',
      path: '/v1/jobs/{id}/retry',
      doc: {
        operationId: 'retryJob',
        summary: 'Retry a failed job',
        description: 'A FAILED or DEAD_LETTERED job is queued again as a new run, its attempts reset; any other is 409 JOB_NOT_RETRYABLE.',
        tag: 'Jobs',
        params: JobIdParamsSchema,
        body: { schema: RetryBodySchema, required: false },
        responses: { 202: { description: 'The job, queued again', body: JobResourceSchema, example: { ...EXAMPLE_QUEUED_JOB, run: 2, version: 9 } } },
        errors: ['JOB_NOT_FOUND', 'JOB_NOT_RETRYABLE', 'CONCURRENT_MODIFICATION'],
      },
      async handle({ event, params, actor, correlationId }) {
        const id = jobIdParam(params);
        RetryBodySchema.optional().parse(readJsonBody(event, { required: false }));
        return json(202, toJobResource(await service.retry(actor, id, correlationId)));
      },
    },
    jobPageRoute('/v1/jobs/{id}/events', service, (jobId, limit, cursor) => history.list(jobId, limit, cursor), {
      operationId: 'listJobEvents',
      summary: "A job's events",
      description: 'Its history, in the order it happened: every state change, with the facts of each.',
      tag: 'Jobs',
      page: EventPageSchema,
      example: { items: [EXAMPLE_EVENT], nextCursor: null },
    }),
    // GET /v1/jobs/{id}/logs: functions/api/log-routes.ts.
    {
      method: 'GET',
      path: '/v1/queues/stats',
      doc: {
        operationId: 'getQueueStats',
        summary: 'Job counters',
        description: 'Queued and running jobs per priority, and totals per terminal status: read from counters, O(1). `scope=global` is for platform admins.',
        tag: 'Queues',
        query: StatsQuerySchema,
        responses: { 200: { description: 'The counters of the scope', body: ScopedStatsSchema, example: { scope: 'tenant', ...EXAMPLE_STATS } } },
      },
      async handle({ event, actor }) {
        const { scope } = StatsQuerySchema.parse(query(event));
        return json(200, { scope, ...(await service.stats(actor, scope)) } satisfies z.output<typeof ScopedStatsSchema>);
      },
    },
  ];
}
