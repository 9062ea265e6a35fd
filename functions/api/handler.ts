import * as z from 'zod';
import { createDocumentClient } from '../adapters/dynamodb/client.ts';
import { DynamoJobStore } from '../adapters/dynamodb/job-store.ts';
import { EventBridgePublisher } from '../adapters/eventbridge/event-publisher.ts';
import { EventHistory } from '../adapters/dynamodb/event-history.ts';
import { lazyEventBridge, lazySfn, lazySqs, sqsEndpointConfig } from '../adapters/lazy-clients.ts';
import { SagaControl } from '../adapters/stepfunctions/saga-control.ts';
import { systemClock, type JobStore } from '../core/ports.ts';
import { EVENT_BUS } from '../declarations/events.ts';
import { SAGA_STARTER_QUEUE } from '../declarations/queues.ts';
import { SagaStarterQueue } from '../adapters/sqs/saga-starter-queue.ts';
import { JOB_SAGA } from '../declarations/statemachines.ts';
import { COUNTERS_TABLE, JOBS_TABLE, OUTBOX_TABLE, TENANTS_TABLE, WEBHOOK_DELIVERIES_TABLE } from '../declarations/tables.ts';
import { TenantSecrets } from '../adapters/dynamodb/tenant-secrets.ts';
import { WebhookDeliveries } from '../consumers/webhooks/deliveries.ts';
import { readConfig, readStateMachineArn, readTableNames } from '../shared/config.ts';
import { jobApiRoutes } from './job-api-routes.ts';
import { OptimisticPublishingStore } from './optimistic-publish.ts';
import { apiTelemetry, httpApi, lambdaHandler } from './pipeline.ts';
import { tenantRateLimitFromEnv } from './wiring.ts';
import { openJobLogStore, readJobLogTarget } from '../adapters/job-log-stores.ts';

// The api function (HTTP_FUNCTIONS.api): every route but the workers' and the API's description, which have
// functions of their own, so this one loads no fleet code and holds no fleet rights.
// Wiring happens once per cold start; a missing variable fails here with its name, not mid-request.
const tableName = readTableNames([JOBS_TABLE, OUTBOX_TABLE, COUNTERS_TABLE, TENANTS_TABLE, WEBHOOK_DELIVERIES_TABLE]);
const config = readConfig({
  [EVENT_BUS.envVar]: z.string().min(1),
  [SAGA_STARTER_QUEUE.envVar]: z.url(),
  OPTIMISTIC_PUBLISH: z.enum(['true', 'false']).default('true'),
});
const { logger, metrics } = apiTelemetry();
const client = createDocumentClient();
const dynamoStore = new DynamoJobStore(client, { jobs: tableName(JOBS_TABLE), outbox: tableName(OUTBOX_TABLE), counters: tableName(COUNTERS_TABLE) });
// The fast path is a single try: a queued run's saga started directly, or else handed to the saga starter's queue,
// which retries; anything else published to the bus, which the outbox relay publishes again. Its clients are made
// on first use: only writes call them, so a cold start that serves a read loads none of their SDKs.
const sagaControl = new SagaControl(lazySfn({ maxAttempts: 1 }), readStateMachineArn(JOB_SAGA));
const starterQueue = new SagaStarterQueue(lazySqs(sqsEndpointConfig()), String(config[SAGA_STARTER_QUEUE.envVar]));
const store: JobStore = new OptimisticPublishingStore(
  dynamoStore,
  { start: (jobId, run, spec) => sagaControl.start(jobId, run, spec), handOff: (event) => starterQueue.put(event) },
  config.OPTIMISTIC_PUBLISH === 'true' ? new EventBridgePublisher(lazyEventBridge({}), { busName: String(config[EVENT_BUS.envVar]), maxAttempts: 1 }) : undefined,
  logger,
  metrics,
);
const routes = jobApiRoutes({
  store,
  history: new EventHistory(client, tableName(OUTBOX_TABLE)),
  deliveries: new WebhookDeliveries(client, tableName(WEBHOOK_DELIVERIES_TABLE)),
  secrets: new TenantSecrets(client, tableName(TENANTS_TABLE)),
  clock: systemClock,
  // GET /v1/jobs/{id}/logs reads the stack's job log group (GetLogEvents), or the local runtime's store.
  jobLogs: openJobLogStore(readJobLogTarget()),
});
const tenantRateLimit = tenantRateLimitFromEnv(client, tableName(COUNTERS_TABLE), logger);

export const handler = lambdaHandler(httpApi(routes, { logger, metrics, tenantRateLimit }), { logger, metrics });
