import * as z from 'zod';
import { JobSpecSchema, JobStatusSchema, PrioritySchema, toJobResource } from '../core/job.ts';
import type { JobService } from '../core/job-service.ts';
import type { JobStore } from '../core/ports.ts';
import type { EventHistory } from '../adapters/dynamodb/event-history.ts';
import { header, HttpError, json, readJsonBody, type HttpEvent } from './http.ts';
import type { Route } from './router.ts';

/** RFC draft "The Idempotency-Key HTTP Header Field": we accept 1–255 printable ASCII characters. */
const IdempotencyKeySchema = z.string().min(1).max(255).regex(/^[\x20-\x7E]+$/, 'printable ASCII only');

const ListQuerySchema = z.strictObject({
  status: JobStatusSchema.optional(),
  priority: PrioritySchema.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().min(1).max(4096).optional(),
});

const StatsQuerySchema = z.strictObject({ scope: z.enum(['tenant', 'global']).default('tenant') });

const JobIdSchema = z.string().regex(/^job_[0-9a-f]{32}$/);

function jobIdParam(params: Record<string, string>): string {
  const result = JobIdSchema.safeParse(params.id);
  // A malformed id can never name a job: answer as for any unknown job.
  if (!result.success) throw new HttpError(404, 'JOB_NOT_FOUND', `Job ${params.id} was not found`, { jobId: params.id });
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
    throw new HttpError(400, 'INVALID_IDEMPOTENCY_KEY', 'Idempotency-Key must be 1-255 printable ASCII characters');
  }
  return result.data;
}

/** `limit` and `cursor` of a list that belongs to one resource (a job's events, a worker's events). */
export const PageQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().min(1).max(4096).optional(),
});

/**
 * A paginated list that belongs to one job (its events, its webhook deliveries): the job is read first, so another
 * tenant's job id answers 404 like a missing one.
 */
export function jobPageRoute(
  path: string,
  service: JobService,
  list: (jobId: string, limit: number, cursor?: string) => Promise<{ items: unknown[]; nextCursor?: string }>,
): Route {
  return {
    method: 'GET',
    path,
    async handle({ event, params, actor }) {
      const { limit, cursor } = PageQuerySchema.parse(query(event));
      const job = await service.get(actor, jobIdParam(params));
      const page = await list(job.jobId, limit, cursor);
      return json(200, { items: page.items, nextCursor: page.nextCursor ?? null });
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
      method: 'GET',
      path: '/health',
      public: true,
      async handle() {
        try {
          await store.ping();
          return json(200, { status: 'ok', store: 'reachable' });
        } catch (error) {
          return json(503, { code: 'STORE_UNREACHABLE', message: 'The job store does not answer', details: { reason: (error as Error).name } });
        }
      },
    },
    {
      method: 'POST',
      path: '/v1/jobs',
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
      async handle({ event, actor }) {
        const q = ListQuerySchema.parse(query(event));
        const page = await service.list(actor, q);
        return json(200, { items: page.items, nextCursor: page.nextCursor ?? null });
      },
    },
    {
      method: 'GET',
      path: '/v1/jobs/{id}',
      async handle({ params, actor }) {
        return json(200, toJobResource(await service.get(actor, jobIdParam(params))));
      },
    },
    {
      method: 'DELETE',
      path: '/v1/jobs/{id}',
      async handle({ params, actor, correlationId }) {
        return json(202, toJobResource(await service.cancel(actor, jobIdParam(params), correlationId)));
      },
    },
    {
      method: 'POST',
      path: '/v1/jobs/{id}/retry',
      async handle({ event, params, actor, correlationId }) {
        const id = jobIdParam(params);
        // The retry takes no options yet; a body, if sent, must still be well-formed JSON and empty of fields.
        z.strictObject({}).optional().parse(readJsonBody(event, { required: false }));
        return json(202, toJobResource(await service.retry(actor, id, correlationId)));
      },
    },
    jobPageRoute('/v1/jobs/{id}/events', service, (jobId, limit, cursor) => history.list(jobId, limit, cursor)),
    {
      method: 'GET',
      path: '/v1/jobs/{id}/logs',
      async handle({ params, actor }) {
        const job = await service.get(actor, jobIdParam(params));
        // The agent sends the bounded tail of stdout+stderr with the attempt's result; a running job has none yet.
        return json(200, {
          jobId: job.jobId,
          status: job.status,
          attempt: job.attempts,
          complete: job.result !== undefined,
          outputTail: job.result?.outputTail ?? '',
        });
      },
    },
    {
      method: 'GET',
      path: '/v1/queues/stats',
      async handle({ event, actor }) {
        const { scope } = StatsQuerySchema.parse(query(event));
        return json(200, { scope, ...(await service.stats(actor, scope)) });
      },
    },
  ];
}
