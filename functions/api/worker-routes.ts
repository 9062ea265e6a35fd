import * as z from 'zod';
import type { EventHistory } from '../adapters/dynamodb/event-history.ts';
import { WorkerNotFoundError } from '../core/fleet/errors.ts';
import { WORKER_ID_PATTERN } from '../core/fleet/worker-id.ts';
import { toWorkerResource } from '../core/fleet/worker.ts';
import type { WorkerService } from '../core/fleet/worker-service.ts';
import { WORKER_STATES } from '../core/fleet/worker-state.ts';
import { json, readJsonBody } from './http.ts';
import type { Route } from './router.ts';
import { PageQuerySchema, query } from './routes.ts';

const WorkerIdSchema = z.string().regex(WORKER_ID_PATTERN);

/** Class names, AMI names and instance types are checked against the declared classes by the use case (422). */
const NameSchema = z.string().min(1).max(128);

const ListWorkersQuerySchema = z.strictObject({
  class: NameSchema.optional(),
  state: z.enum(WORKER_STATES).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().min(1).max(4096).optional(),
});

const LaunchWorkerBodySchema = z.strictObject({
  class: NameSchema,
  amiName: NameSchema.optional(),
  instanceType: NameSchema.optional(),
});

const MonitoringBodySchema = z.strictObject({ enabled: z.boolean() });

const RemoveWorkerQuerySchema = z.strictObject({
  force: z.enum(['true', 'false']).default('false'),
});

function workerIdParam(params: Record<string, string>): string {
  const result = WorkerIdSchema.safeParse(params.id);
  // A malformed id can never name a worker: answer as for any unknown worker.
  if (!result.success) throw new WorkerNotFoundError(params.id ?? '');
  return result.data;
}

export interface WorkerRouteDeps {
  workers: WorkerService;
  /** Worker events are kept in the outbox under the worker id as their subject. */
  history: EventHistory;
}

/** The fleet as admins (everything) and operators (read-only) see it. Roles are checked by WorkerService (403). */
export function workerRoutes({ workers, history }: WorkerRouteDeps): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/workers',
      async handle({ event, actor }) {
        const q = ListWorkersQuerySchema.parse(query(event));
        const page = await workers.list(actor, q);
        return json(200, { items: page.items.map(toWorkerResource), nextCursor: page.nextCursor ?? null });
      },
    },
    {
      method: 'POST',
      path: '/v1/workers',
      async handle({ event, actor, correlationId }) {
        const body = LaunchWorkerBodySchema.parse(readJsonBody(event, { required: true }));
        const worker = await workers.launch(
          actor,
          { workerClass: body.class, ...(body.amiName ? { amiName: body.amiName } : {}), ...(body.instanceType ? { instanceType: body.instanceType } : {}) },
          correlationId,
        );
        return json(202, toWorkerResource(worker), { location: `/v1/workers/${worker.workerId}` });
      },
    },
    {
      method: 'GET',
      path: '/v1/workers/{id}',
      async handle({ params, actor }) {
        return json(200, toWorkerResource(await workers.get(actor, workerIdParam(params))));
      },
    },
    {
      method: 'DELETE',
      path: '/v1/workers/{id}',
      async handle({ event, params, actor, correlationId }) {
        const id = workerIdParam(params);
        const { force } = RemoveWorkerQuerySchema.parse(query(event));
        return json(202, toWorkerResource(await workers.remove(actor, id, force === 'true', correlationId)));
      },
    },
    {
      method: 'POST',
      path: '/v1/workers/{id}/refresh',
      async handle({ params, actor, correlationId }) {
        return json(200, toWorkerResource(await workers.refresh(actor, workerIdParam(params), correlationId)));
      },
    },
    {
      method: 'POST',
      path: '/v1/workers/{id}/monitoring',
      async handle({ event, params, actor, correlationId }) {
        const id = workerIdParam(params);
        const { enabled } = MonitoringBodySchema.parse(readJsonBody(event, { required: true }));
        const { worker, monitoring } = await workers.setMonitoring(actor, id, enabled, correlationId);
        return json(200, { worker: toWorkerResource(worker), monitoring });
      },
    },
    {
      method: 'GET',
      path: '/v1/workers/{id}/events',
      async handle({ event, params, actor }) {
        const { limit, cursor } = PageQuerySchema.parse(query(event));
        const worker = await workers.get(actor, workerIdParam(params));
        const page = await history.list(worker.workerId, limit, cursor);
        return json(200, { items: page.items, nextCursor: page.nextCursor ?? null });
      },
    },
  ];
}
