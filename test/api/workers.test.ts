import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApi } from '../../functions/api/app.ts';
import type { HttpResult } from '../../functions/api/http.ts';
import { DynamoJobStore } from '../../functions/adapters/dynamodb/job-store.ts';
import { TenantSecrets } from '../../functions/adapters/dynamodb/tenant-secrets.ts';
import { DynamoWorkerStore } from '../../functions/adapters/dynamodb/worker-store.ts';
import { EventHistory } from '../../functions/adapters/dynamodb/event-history.ts';
import { WebhookDeliveries } from '../../functions/consumers/webhooks/deliveries.ts';
import type { EventEnvelope } from '../../functions/core/events.ts';
import type { Fleet } from '../../functions/core/fleet/fleet.ts';
import type { WorkerRecord } from '../../functions/core/fleet/worker.ts';
import { systemClock } from '../../functions/core/ports.ts';
import type { WorkerClassDefinition } from '../../functions/declarations/worker-classes.ts';
import { createTestApi, httpEvent, root, testTenantRateLimit, type ApiResponse, type Caller, type RequestOptions } from '../support/api.ts';
import { createTestTables } from '../support/dynamodb.ts';
import { fleetFixture, identityOf, TEST_CLASS, type FleetFixture } from '../fleet/fakes.ts';

const user: Caller = { sub: 'alice', tenant: 'acme' };
const operator: Caller = { sub: 'olga', tenant: 'acme', groups: ['operator'] };
const admin = root;

/** A second class, so the class filter has something to leave out. */
const GPU_CLASS: WorkerClassDefinition = {
  name: 'gpu',
  instanceTypes: ['g5.xlarge'],
  market: 'on-demand',
  amis: { al2023: { imageId: 'ami-0123456789abcdef1' } },
  defaultAmi: 'al2023',
  minWorkers: 0,
  maxWorkers: 2,
  slotsPerWorker: 1,
};

/** Well-formed (w- + 26 lowercase Crockford base32) but names no worker. */
const UNKNOWN_ID = `w-${'0'.repeat(26)}`;
const MALFORMED_IDS = ['not-a-worker', `w-${'A'.repeat(26)}`, `w-${'u'.repeat(26)}`, `w-${'0'.repeat(25)}`, `w-${'0'.repeat(2000)}`];

interface WorkersApi {
  call(method: string, path: string, options?: RequestOptions): Promise<ApiResponse>;
  fleet: Fleet;
  f: FleetFixture;
  released: { workerId: string; jobIds: readonly string[] }[];
}

/**
 * The API wired as the Lambda handler wires it, with the worker routes over a fleet of fakes (EC2, Step Functions)
 * that shares the API's tables in DynamoDB Local.
 */
async function createWorkersApi(classes: readonly WorkerClassDefinition[] = [TEST_CLASS, GPU_CLASS]): Promise<WorkersApi> {
  const { documentClient, tableNames } = await createTestTables();
  const released: WorkersApi['released'] = [];
  const f = await fleetFixture({
    store: new DynamoWorkerStore(documentClient, { workers: tableNames.workers, outbox: tableNames.outbox, counters: tableNames.counters }),
    classes,
    releaser: { releaseJobs: async (workerId, jobIds) => void released.push({ workerId, jobIds }) },
  });
  const history = new EventHistory(documentClient, tableNames.outbox);
  const api = createApi({
    store: new DynamoJobStore(documentClient, tableNames),
    history,
    deliveries: new WebhookDeliveries(documentClient, tableNames.webhookDeliveries),
    secrets: new TenantSecrets(documentClient, tableNames.tenants),
    clock: systemClock,
    logger: new Logger({ logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: 'ForgeflowTest' }),
    workers: f.fleet.workers,
    tenantRateLimit: testTenantRateLimit(documentClient, tableNames.counters),
  });
  return {
    f,
    fleet: f.fleet,
    released,
    async call(method, path, options = {}) {
      const result: HttpResult = await api(httpEvent(method, path, { caller: admin, ...options }));
      return { status: result.statusCode, headers: result.headers, body: result.body ? JSON.parse(result.body as string) : {} };
    },
  };
}

/** Drives a worker to READY through the provisioning steps, in order, as the saga runs them. */
async function readyWorker(fleet: Fleet, workerClass = 'default'): Promise<WorkerRecord> {
  const created = await fleet.provisioning.create({ workerClass, requestedBy: 'test', correlationId: 'c' }, {});
  await fleet.provisioning.launch({ workerId: created.workerId });
  await fleet.provisioning.awaitAgent({ workerId: created.workerId, taskToken: 'token' });
  return fleet.provisioning.recordReady({ workerId: created.workerId, agentVersion: '1.0.0' });
}

/** Every page of a list, following nextCursor until it is null. */
async function allPages(api: WorkersApi, path: string, query: Record<string, string>, caller: Caller = admin) {
  const pages: Record<string, unknown>[][] = [];
  let cursor: string | null = null;
  do {
    const res = await api.call('GET', path, { caller, query: { ...query, ...(cursor ? { cursor } : {}) } });
    expect(res.status).toBe(200);
    pages.push(res.body.items!);
    cursor = res.body.nextCursor as string | null;
    expect(pages.length).toBeLessThan(20);
  } while (cursor);
  return pages;
}

const launch = async (api: WorkersApi, body: Record<string, unknown> = { class: 'default' }, caller: Caller = admin) => api.call('POST', '/v1/workers', { caller, body });

describe('Worker routes', () => {
  let api: WorkersApi;
  beforeEach(async () => {
    api = await createWorkersApi();
  });

  describe('roles', () => {
    it('refuses a user every worker route with 403 FORBIDDEN', async () => {
      const worker = await readyWorker(api.fleet);
      const routes = [
        ['GET', '/v1/workers', undefined],
        ['POST', '/v1/workers', { class: 'default' }],
        ['GET', `/v1/workers/${worker.workerId}`, undefined],
        ['GET', `/v1/workers/${UNKNOWN_ID}`, undefined],
        ['DELETE', `/v1/workers/${worker.workerId}`, undefined],
        ['GET', `/v1/workers/${worker.workerId}/events`, undefined],
      ] as const;
      for (const [method, path, body] of routes) {
        const res = await api.call(method, path, { caller: user, ...(body ? { body } : {}) });
        expect(res.status, `${method} ${path}`).toBe(403);
        expect(res.body).toMatchObject({ code: 'FORBIDDEN', message: expect.any(String), details: expect.any(Object) });
      }
      expect(api.f.runner.started).toEqual([]);
      expect((await api.fleet.context.store.get(worker.workerId))!.state).toBe('READY');
    });

    it('lets an operator list, read and see events, but not launch or remove', async () => {
      const worker = await readyWorker(api.fleet);
      expect((await api.call('GET', '/v1/workers', { caller: operator })).status).toBe(200);
      expect((await api.call('GET', `/v1/workers/${worker.workerId}`, { caller: operator })).body).toMatchObject({ workerId: worker.workerId, state: 'READY' });
      expect((await api.call('GET', `/v1/workers/${worker.workerId}/events`, { caller: operator })).status).toBe(200);
      for (const res of [await launch(api, { class: 'default' }, operator), await api.call('DELETE', `/v1/workers/${worker.workerId}`, { caller: operator }), await api.call('DELETE', `/v1/workers/${worker.workerId}`, { caller: operator, query: { force: 'true' } })]) {
        expect(res.status).toBe(403);
        expect(res.body.code).toBe('FORBIDDEN');
      }
      expect((await api.fleet.context.store.get(worker.workerId))!.state).toBe('READY');
      expect(api.f.runner.started).toEqual([]);
    });

    it('lets an admin launch, read, list, see events and remove', async () => {
      const launched = await launch(api);
      expect(launched.status).toBe(202);
      const id = launched.body.workerId as string;
      expect((await api.call('GET', `/v1/workers/${id}`)).status).toBe(200);
      expect((await api.call('GET', '/v1/workers')).body.items!.map((w) => w.workerId)).toEqual([id]);
      expect((await api.call('GET', `/v1/workers/${id}/events`)).status).toBe(200);
      expect((await api.call('DELETE', `/v1/workers/${id}`)).status).toBe(202);
    });
  });

  describe('POST /v1/workers', () => {
    it('launches a worker: 202, Location, the public resource, and the provisioning saga started', async () => {
      const res = await api.call('POST', '/v1/workers', { body: { class: 'default', amiName: 'al2023', instanceType: 'm6g.large' }, headers: { 'x-correlation-id': 'launch-1' } });
      expect(res.status).toBe(202);
      const id = res.body.workerId as string;
      expect(id).toMatch(/^w-[0-9a-hjkmnp-tv-z]{26}$/);
      expect(res.headers.location).toBe(`/v1/workers/${id}`);
      expect(res.body).toMatchObject({ class: 'default', state: 'PROVISIONING', version: 1, amiName: 'al2023', slots: 4, runningJobs: 0, requestedBy: 'root', region: 'us-east-1' });
      for (const internal of ['registrationToken', 'registeredAt', 'directive', 'runningJobIds', 'preferredInstanceType']) expect(res.body).not.toHaveProperty(internal);
      expect(api.f.runner.started).toEqual([id]);
      expect((await api.fleet.context.store.get(id))!.preferredInstanceType).toBe('m6g.large');
      expect((await api.call('GET', `/v1/workers/${id}`)).body).toEqual(res.body);

      const events = await api.call('GET', `/v1/workers/${id}/events`);
      expect(events.body.items).toEqual([expect.objectContaining({ type: 'WorkerProvisioning', subject: id, correlationId: 'launch-1', data: expect.objectContaining({ requestedBy: 'root' }) })]);
    });

    it.each([
      [{ class: 'nope' }, 'UNKNOWN_WORKER_CLASS'],
      [{ class: 'default', amiName: 'nope' }, 'UNKNOWN_AMI_NAME'],
      [{ class: 'default', instanceType: 'x1e.32xlarge' }, 'UNKNOWN_INSTANCE_TYPE'],
      [{ class: 'gpu', instanceType: 'm7g.large' }, 'UNKNOWN_INSTANCE_TYPE'],
    ])('answers 422 for %j (%s) and creates nothing', async (body, code) => {
      const res = await launch(api, body);
      expect(res.status).toBe(422);
      expect(res.body).toMatchObject({ code, message: expect.any(String), details: expect.any(Object) });
      expect((await api.call('GET', '/v1/workers')).body.items).toEqual([]);
      expect(api.f.runner.started).toEqual([]);
    });

    it('answers 409 FLEET_AT_MAXIMUM once the class has its maximum of active workers', async () => {
      for (let i = 0; i < TEST_CLASS.maxWorkers; i++) expect((await launch(api)).status).toBe(202);
      const res = await launch(api);
      expect(res.status).toBe(409);
      expect(res.body).toMatchObject({ code: 'FLEET_AT_MAXIMUM', details: { workerClass: 'default', maxWorkers: TEST_CLASS.maxWorkers } });
      expect(await api.fleet.context.store.activeCount('default')).toBe(TEST_CLASS.maxWorkers);
      // Another class has its own maximum.
      expect((await launch(api, { class: 'gpu' })).status).toBe(202);
    });

    it('counts concurrent launches against the maximum: exactly max of them win', async () => {
      const results = await Promise.all(Array.from({ length: TEST_CLASS.maxWorkers + 2 }, () => launch(api)));
      expect(results.filter((r) => r.status === 202)).toHaveLength(TEST_CLASS.maxWorkers);
      expect(results.filter((r) => r.status !== 202).map((r) => r.body.code)).toEqual(['FLEET_AT_MAXIMUM', 'FLEET_AT_MAXIMUM']);
    });

    it.each([
      ['an unknown field', { class: 'default', size: 'huge' }, 'VALIDATION_ERROR'],
      ['no class', { amiName: 'al2023' }, 'VALIDATION_ERROR'],
      ['a class that is not a string', { class: 7 }, 'VALIDATION_ERROR'],
      ['an empty class', { class: '' }, 'VALIDATION_ERROR'],
    ])('answers 400 for a body with %s', async (_, body, code) => {
      const res = await launch(api, body);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe(code);
    });

    it('needs a JSON body', async () => {
      expect((await api.call('POST', '/v1/workers')).body.code).toBe('BODY_REQUIRED');
      expect((await api.call('POST', '/v1/workers', { rawBody: '{', headers: { 'content-type': 'application/json' } })).body.code).toBe('MALFORMED_JSON');
    });
  });

  describe('GET /v1/workers/{id}', () => {
    it('answers 404 WORKER_NOT_FOUND for unknown and malformed ids on every worker route', async () => {
      for (const id of [UNKNOWN_ID, ...MALFORMED_IDS]) {
        for (const [method, path] of [['GET', `/v1/workers/${id}`], ['DELETE', `/v1/workers/${id}`], ['GET', `/v1/workers/${id}/events`]] as const) {
          const res = await api.call(method, path, { caller: method === 'GET' ? operator : admin });
          expect(res.status, `${method} ${path.slice(0, 60)}`).toBe(404);
          expect(res.body).toMatchObject({ code: 'WORKER_NOT_FOUND', message: expect.any(String), details: expect.any(Object) });
        }
      }
      expect((await api.call('GET', '/v1/workers/%E0%A4%A')).status).toBe(400);
    });
  });

  describe('GET /v1/workers', () => {
    it('pages newest first with an opaque cursor, without duplicates, until nextCursor is null', async () => {
      api = await createWorkersApi([{ ...TEST_CLASS, maxWorkers: 7 }]);
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) ids.push((await launch(api)).body.workerId as string);
      const pages = await allPages(api, '/v1/workers', { limit: '3' }, operator);
      expect(pages.map((p) => p.length)).toEqual([3, 3, 1]);
      const listed = pages.flat().map((w) => w.workerId);
      expect(new Set(listed).size).toBe(listed.length);
      expect(listed).toEqual([...ids].reverse());
      for (const item of pages.flat()) expect(item).not.toHaveProperty('directive');
    });

    it('filters by class, by state, and by both', async () => {
      const ready = await readyWorker(api.fleet, 'default');
      const provisioning = (await launch(api)).body.workerId as string;
      const gpuReady = await readyWorker(api.fleet, 'gpu');
      const gpuProvisioning = (await launch(api, { class: 'gpu' })).body.workerId as string;
      const idsOf = async (query: Record<string, string>) => (await allPages(api, '/v1/workers', { limit: '1', ...query })).flat().map((w) => w.workerId);

      expect(await idsOf({ class: 'default' })).toEqual([provisioning, ready.workerId]);
      expect(await idsOf({ class: 'gpu' })).toEqual([gpuProvisioning, gpuReady.workerId]);
      expect(await idsOf({ state: 'READY' })).toEqual([gpuReady.workerId, ready.workerId]);
      expect(await idsOf({ state: 'PROVISIONING' })).toEqual([gpuProvisioning, provisioning]);
      expect(await idsOf({ class: 'gpu', state: 'READY' })).toEqual([gpuReady.workerId]);
      expect(await idsOf({ class: 'default', state: 'DRAINING' })).toEqual([]);
      expect(await idsOf({})).toEqual([gpuProvisioning, gpuReady.workerId, provisioning, ready.workerId]);
    });

    it('answers 422 UNKNOWN_WORKER_CLASS for a class filter no class has', async () => {
      const res = await api.call('GET', '/v1/workers', { query: { class: 'nope' } });
      expect(res.status).toBe(422);
      expect(res.body.code).toBe('UNKNOWN_WORKER_CLASS');
    });

    it.each([
      [{ limit: '0' }],
      [{ limit: '101' }],
      [{ limit: 'ten' }],
      [{ state: 'NOPE' }],
      [{ state: 'ready' }],
      [{ status: 'READY' }],
      [{ class: '' }],
    ])('answers 400 VALIDATION_ERROR for %j', async (query) => {
      const res = await api.call('GET', '/v1/workers', { query });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 'VALIDATION_ERROR', details: { issues: expect.any(Array) } });
    });

    it('refuses a forged cursor, and a cursor of another filter, with 400 INVALID_CURSOR', async () => {
      await launch(api);
      await launch(api);
      const first = await api.call('GET', '/v1/workers', { query: { limit: '1' } });
      const cursor = first.body.nextCursor as string;
      expect(cursor).toEqual(expect.any(String));
      expect((await api.call('GET', '/v1/workers', { query: { cursor: 'not-a-cursor' } })).body.code).toBe('INVALID_CURSOR');
      expect((await api.call('GET', '/v1/workers', { query: { cursor, class: 'default', state: 'PROVISIONING' } })).body.code).toBe('INVALID_CURSOR');
    });
  });

  describe('DELETE /v1/workers/{id}', () => {
    it('drains a READY worker (202 DRAINING), and force then terminates it and hands its jobs back', async () => {
      const worker = await readyWorker(api.fleet);
      await api.fleet.agents.heartbeat(identityOf(worker), { jobIds: ['job_a', 'job_b'] });

      const drained = await api.call('DELETE', `/v1/workers/${worker.workerId}`);
      expect(drained.status).toBe(202);
      expect(drained.body).toMatchObject({ workerId: worker.workerId, state: 'DRAINING', termination: { reason: 'REQUESTED' } });
      expect(drained.body).not.toHaveProperty('directive');
      expect((await api.fleet.context.store.get(worker.workerId))!.directive).toBe('drain');
      expect(api.f.provider.terminated).toEqual([]);
      expect(api.released).toEqual([]);
      // Draining again changes nothing.
      expect((await api.call('DELETE', `/v1/workers/${worker.workerId}`, { query: { force: 'false' } })).body).toMatchObject({ state: 'DRAINING', version: drained.body.version });

      const forced = await api.call('DELETE', `/v1/workers/${worker.workerId}`, { query: { force: 'true' } });
      expect(forced.status).toBe(202);
      expect(forced.body).toMatchObject({ state: 'TERMINATED', runningJobs: 0, termination: { reason: 'FORCED' } });
      expect(api.f.provider.terminated).toEqual([worker.instanceId]);
      expect(api.released).toEqual([{ workerId: worker.workerId, jobIds: ['job_a', 'job_b'] }]);
      // Removing an ended worker changes nothing.
      expect((await api.call('DELETE', `/v1/workers/${worker.workerId}`, { query: { force: 'true' } })).body).toMatchObject({ state: 'TERMINATED', version: forced.body.version });
      expect(api.f.provider.terminated).toHaveLength(1);
    });

    it('with force=true terminates a READY worker at once', async () => {
      const worker = await readyWorker(api.fleet);
      const res = await api.call('DELETE', `/v1/workers/${worker.workerId}`, { query: { force: 'true' } });
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ state: 'TERMINATED', termination: { reason: 'FORCED', message: 'Removed by root (force)' } });
      expect(api.f.provider.terminated).toEqual([worker.instanceId]);
      expect(await api.fleet.context.store.activeCount('default')).toBe(0);
    });

    it('terminates a worker still starting, force or not (it has no jobs to finish)', async () => {
      const id = (await launch(api)).body.workerId as string;
      const res = await api.call('DELETE', `/v1/workers/${id}`);
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ state: 'TERMINATED' });
      expect(await api.fleet.context.store.activeCount('default')).toBe(0);
    });

    it.each([['yes'], ['1'], ['TRUE'], ['']])('answers 400 VALIDATION_ERROR for force=%s and removes nothing', async (force) => {
      const worker = await readyWorker(api.fleet);
      const res = await api.call('DELETE', `/v1/workers/${worker.workerId}`, { query: { force } });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('VALIDATION_ERROR');
      expect((await api.fleet.context.store.get(worker.workerId))!.state).toBe('READY');
    });

    it('answers 400 for an unknown query parameter', async () => {
      const worker = await readyWorker(api.fleet);
      expect((await api.call('DELETE', `/v1/workers/${worker.workerId}`, { query: { now: 'true' } })).body.code).toBe('VALIDATION_ERROR');
    });
  });

  describe('GET /v1/workers/{id}/events', () => {
    it("pages through the worker's history in the order it happened", async () => {
      const worker = await readyWorker(api.fleet);
      await api.call('DELETE', `/v1/workers/${worker.workerId}`);
      await api.call('DELETE', `/v1/workers/${worker.workerId}`, { query: { force: 'true' } });

      const pages = await allPages(api, `/v1/workers/${worker.workerId}/events`, { limit: '2' }, operator);
      const events = pages.flat() as unknown as EventEnvelope[];
      expect(events.map((e) => e.type)).toEqual(['WorkerProvisioning', 'WorkerLaunched', 'WorkerReady', 'WorkerDraining', 'WorkerTerminated']);
      expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
      expect(events.every((e) => e.subject === worker.workerId)).toBe(true);
      expect(pages[0]).toHaveLength(2);
    });

    it('holds every event the moment its change commits: the outbox is the history, no consumer in between', async () => {
      const worker = await readyWorker(api.fleet);
      const { body } = await api.call('GET', `/v1/workers/${worker.workerId}/events`);
      expect((body.items as unknown as EventEnvelope[]).map((e) => e.type)).toEqual(['WorkerProvisioning', 'WorkerLaunched', 'WorkerReady']);
      expect(body.nextCursor).toBeNull();
    });

    it('answers 400 for a bad limit and for a cursor of another worker', async () => {
      const one = await readyWorker(api.fleet);
      const two = await readyWorker(api.fleet);
      expect((await api.call('GET', `/v1/workers/${one.workerId}/events`, { query: { limit: '0' } })).body.code).toBe('VALIDATION_ERROR');
      const cursor = (await api.call('GET', `/v1/workers/${one.workerId}/events`, { query: { limit: '1' } })).body.nextCursor as string;
      expect(cursor).toEqual(expect.any(String));
      expect((await api.call('GET', `/v1/workers/${two.workerId}/events`, { query: { cursor } })).body.code).toBe('INVALID_CURSOR');
    });
  });
});

describe('An API built without a fleet', () => {
  let plain: Awaited<ReturnType<typeof createTestApi>>;
  beforeAll(async () => {
    plain = await createTestApi();
  });

  it('has no worker routes', async () => {
    const res = await plain.call('GET', '/v1/workers', { caller: admin });
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('ROUTE_NOT_FOUND');
  });
});
