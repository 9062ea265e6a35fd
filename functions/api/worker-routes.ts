import * as z from 'zod';
import type { EventHistory } from '../adapters/dynamodb/event-history.ts';
import { WorkerNotFoundError } from '../core/fleet/errors.ts';
import { WORKER_ID_PATTERN } from '../core/fleet/worker-id.ts';
import { toWorkerResource, WorkerResourceSchema } from '../core/fleet/worker.ts';
import { MonitoringCostSchema, type WorkerService } from '../core/fleet/worker-service.ts';
import { WORKER_STATES } from '../core/fleet/worker-state.ts';
import { ROLES } from '../core/roles.ts';
import { DETAILED_MONITORING_COST } from '../declarations/metrics.ts';
import { EXAMPLE_WORKER, EXAMPLE_WORKER_ID } from './examples.ts';
import { json, readJsonBody } from './http.ts';
import { cursorParam, limitParam, pageBody, pageSchema } from './page.ts';
import type { Route } from './router.ts';
import { EventPageSchema, PageQuerySchema, query } from './routes.ts';

const WorkerIdSchema = z.string().regex(WORKER_ID_PATTERN);

/** Class names, AMI names and instance types are checked against the declared classes by the use case (422). */
const NameSchema = z.string().min(1).max(128);

const ListWorkersQuerySchema = z.strictObject({
  class: NameSchema.optional().meta({ description: 'Only workers of this class' }),
  state: z.enum(WORKER_STATES).optional(),
  limit: limitParam(20),
  cursor: cursorParam,
});

const LaunchWorkerBodySchema = z.strictObject({
  class: NameSchema,
  amiName: NameSchema.optional(),
  instanceType: NameSchema.optional(),
});

const MonitoringBodySchema = z.strictObject({ enabled: z.boolean() });

const RemoveWorkerQuerySchema = z.strictObject({
  force: z.enum(['true', 'false']).default('false').meta({ description: '`true`: terminate now and give its jobs back (they run again elsewhere)' }),
});

const WorkerIdParamsSchema = z.object({
  id: WorkerIdSchema.meta({ description: "A worker's id; one that is malformed or unknown answers 404 WORKER_NOT_FOUND", example: EXAMPLE_WORKER_ID }),
});

const MonitoringResultSchema = z.object({ worker: WorkerResourceSchema, monitoring: MonitoringCostSchema }).meta({ id: 'WorkerMonitoring' });

const workerLocation = z.string().meta({ description: "The worker's URL", example: `/v1/workers/${EXAMPLE_WORKER_ID}` });
const SEE = [ROLES.PLATFORM_ADMIN, ROLES.OPERATOR];
const RUN = [ROLES.PLATFORM_ADMIN];

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
      doc: {
        operationId: 'listWorkers',
        summary: 'List workers',
        description: 'Newest first; an unknown `class` is 422 UNKNOWN_WORKER_CLASS.',
        tag: 'Workers',
        roles: SEE,
        query: ListWorkersQuerySchema,
        responses: { 200: { description: 'One page', body: pageSchema(WorkerResourceSchema, 'WorkerPage'), example: { items: [EXAMPLE_WORKER], nextCursor: null } } },
        errors: ['INVALID_CURSOR', 'UNKNOWN_WORKER_CLASS'],
      },
      async handle({ event, actor }) {
        const q = ListWorkersQuerySchema.parse(query(event));
        const page = await workers.list(actor, q);
        return json(200, pageBody({ ...page, items: page.items.map(toWorkerResource) }));
      },
    },
    {
      method: 'POST',
      path: '/v1/workers',
      doc: {
        operationId: 'launchWorker',
        summary: 'Launch a worker',
        description: "Starts one worker of a class now, beyond what the scaler wants but never beyond the class's maximum (409 FLEET_AT_MAXIMUM).",
        tag: 'Workers',
        roles: RUN,
        body: { schema: LaunchWorkerBodySchema, required: true, example: { class: 'default' } },
        responses: {
          202: { description: 'Provisioning', body: WorkerResourceSchema, headers: z.object({ Location: workerLocation }), example: { ...EXAMPLE_WORKER, state: 'PROVISIONING', requestedBy: 'root' } },
        },
        errors: ['UNKNOWN_WORKER_CLASS', 'UNKNOWN_AMI_NAME', 'UNKNOWN_INSTANCE_TYPE', 'FLEET_AT_MAXIMUM'],
      },
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
      doc: {
        operationId: 'getWorker',
        summary: 'Get a worker',
        tag: 'Workers',
        roles: SEE,
        params: WorkerIdParamsSchema,
        responses: { 200: { description: 'The worker', body: WorkerResourceSchema, example: EXAMPLE_WORKER } },
        errors: ['WORKER_NOT_FOUND'],
      },
      async handle({ params, actor }) {
        return json(200, toWorkerResource(await workers.get(actor, workerIdParam(params))));
      },
    },
    {
      method: 'DELETE',
      path: '/v1/workers/{id}',
      doc: {
        operationId: 'removeWorker',
        summary: 'Remove a worker',
        description: 'Drains it: it takes no new jobs, finishes those it runs, then ends. With `force=true` it ends now and its jobs run again elsewhere.',
        tag: 'Workers',
        roles: RUN,
        params: WorkerIdParamsSchema,
        query: RemoveWorkerQuerySchema,
        responses: { 202: { description: 'The worker after the request', body: WorkerResourceSchema, example: { ...EXAMPLE_WORKER, state: 'DRAINING' } } },
        errors: ['WORKER_NOT_FOUND', 'WORKER_CONFLICT'],
      },
      async handle({ event, params, actor, correlationId }) {
        const id = workerIdParam(params);
        const { force } = RemoveWorkerQuerySchema.parse(query(event));
        return json(202, toWorkerResource(await workers.remove(actor, id, force === 'true', correlationId)));
      },
    },
    {
      method: 'POST',
      path: '/v1/workers/{id}/refresh',
      doc: {
        operationId: 'refreshWorker',
        summary: "Collect a worker's metrics now",
        description: 'Reads its EC2, CloudWatch and agent blocks at once instead of at the next schedule.',
        tag: 'Workers',
        roles: SEE,
        params: WorkerIdParamsSchema,
        responses: { 200: { description: 'The worker with fresh metrics', body: WorkerResourceSchema, example: EXAMPLE_WORKER } },
        errors: ['WORKER_NOT_FOUND', 'METRICS_UNAVAILABLE'],
      },
      async handle({ params, actor, correlationId }) {
        return json(200, toWorkerResource(await workers.refresh(actor, workerIdParam(params), correlationId)));
      },
    },
    {
      method: 'POST',
      path: '/v1/workers/{id}/monitoring',
      doc: {
        operationId: 'setWorkerMonitoring',
        summary: 'Switch EC2 detailed monitoring',
        description: 'Turns 1-minute EC2 metrics on or off for the worker, and answers what it costs. Local workers have none (409 MONITORING_NOT_APPLICABLE).',
        tag: 'Workers',
        roles: RUN,
        params: WorkerIdParamsSchema,
        body: { schema: MonitoringBodySchema, required: true, example: { enabled: true } },
        responses: {
          200: {
            description: 'The worker and the cost of its monitoring',
            body: MonitoringResultSchema,
            example: {
              worker: { ...EXAMPLE_WORKER, detailedMonitoring: true },
              monitoring: {
                detailedMonitoring: true,
                metrics: DETAILED_MONITORING_COST.metricsPerInstance,
                resolutionSeconds: 60,
                monthlyCostUsd: DETAILED_MONITORING_COST.usdPerInstanceMonth,
                pricing: DETAILED_MONITORING_COST.source,
              },
            },
          },
        },
        errors: ['WORKER_NOT_FOUND', 'MONITORING_NOT_APPLICABLE', 'WORKER_STATE_CONFLICT', 'WORKER_CONFLICT'],
      },
      async handle({ event, params, actor, correlationId }) {
        const id = workerIdParam(params);
        const { enabled } = MonitoringBodySchema.parse(readJsonBody(event, { required: true }));
        const { worker, monitoring } = await workers.setMonitoring(actor, id, enabled, correlationId);
        return json(200, { worker: toWorkerResource(worker), monitoring } satisfies z.output<typeof MonitoringResultSchema>);
      },
    },
    {
      method: 'GET',
      path: '/v1/workers/{id}/events',
      doc: {
        operationId: 'listWorkerEvents',
        summary: "A worker's events",
        description: 'Its history, in the order it happened: state changes, metrics read, thresholds crossed.',
        tag: 'Workers',
        roles: SEE,
        params: WorkerIdParamsSchema,
        query: PageQuerySchema,
        responses: { 200: { description: 'One page, oldest first', body: EventPageSchema } },
        errors: ['WORKER_NOT_FOUND', 'INVALID_CURSOR'],
      },
      async handle({ event, params, actor }) {
        const { limit, cursor } = PageQuerySchema.parse(query(event));
        const worker = await workers.get(actor, workerIdParam(params));
        return json(200, pageBody(await history.list(worker.workerId, limit, cursor)));
      },
    },
  ];
}
