import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import { createDocumentClient } from '../adapters/dynamodb/client.ts';
import { DynamoJobStore } from '../adapters/dynamodb/job-store.ts';
import { DynamoRateLimiter } from '../adapters/dynamodb/rate-limiter.ts';
import { EventBridgePublisher } from '../adapters/eventbridge/event-publisher.ts';
import { EventHistory } from '../adapters/dynamodb/event-history.ts';
import { SagaControl } from '../adapters/stepfunctions/saga-control.ts';
import { systemClock, type JobStore } from '../core/ports.ts';
import { EVENT_BUS } from '../declarations/events.ts';
import { SAGA_STARTER_QUEUE } from '../declarations/queues.ts';
import { SagaStarterQueue } from '../adapters/sqs/saga-starter-queue.ts';
import { METRICS_NAMESPACE } from '../declarations/metrics.ts';
import { JOB_SAGA } from '../declarations/statemachines.ts';
import { metricsRecorder } from '../shared/platform-metrics.ts';
import { COUNTERS_TABLE, JOBS_TABLE, OUTBOX_TABLE, TENANTS_TABLE, WEBHOOK_DELIVERIES_TABLE } from '../declarations/tables.ts';
import { TenantSecrets } from '../adapters/dynamodb/tenant-secrets.ts';
import { WebhookDeliveries } from '../consumers/webhooks/deliveries.ts';
import { readConfig, readStateMachineArn, readTableNames } from '../shared/config.ts';
import { createApi } from './app.ts';
import type { HttpEvent, HttpResult } from './http.ts';
import { OptimisticPublishingStore } from './optimistic-publish.ts';
import { readTenantRateLimit, TenantRateLimit, tenantRateLimitLease } from './tenant-rate-limit.ts';
import { flushMetrics } from '../shared/metrics.ts';
import { fleetFromEnv } from '../fleet/wiring.ts';
import { openJobLogStore, readJobLogTarget } from '../adapters/job-log-stores.ts';

// Wiring happens once per cold start; a missing variable fails here with its name, not mid-request.
const tableName = readTableNames([JOBS_TABLE, OUTBOX_TABLE, COUNTERS_TABLE, TENANTS_TABLE, WEBHOOK_DELIVERIES_TABLE]);
const config = readConfig({
  [EVENT_BUS.envVar]: z.string().min(1),
  [SAGA_STARTER_QUEUE.envVar]: z.url(),
  OPTIMISTIC_PUBLISH: z.enum(['true', 'false']).default('true'),
});
const logger = new Logger({ serviceName: 'forgeflow-api' });
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'forgeflow-api' });
const client = createDocumentClient();
const dynamoStore = new DynamoJobStore(client, { jobs: tableName(JOBS_TABLE), outbox: tableName(OUTBOX_TABLE), counters: tableName(COUNTERS_TABLE) });
// The fast path is a single try: a queued run's saga started directly (JOB_SAGA_ARN comes with the fleet's wiring
// below), or else handed to the saga starter's queue, which retries; anything else published to the bus, which the
// outbox relay publishes again.
const sagaControl = new SagaControl(new SFNClient({ maxAttempts: 1 }), readStateMachineArn(JOB_SAGA));
// An explicit endpoint locally (AWS_ENDPOINT_URL_SQS): local queue URLs name a host that does not resolve.
const starterQueue = new SagaStarterQueue(
  new SQSClient(process.env.AWS_ENDPOINT_URL_SQS ? { endpoint: process.env.AWS_ENDPOINT_URL_SQS } : {}),
  String(config[SAGA_STARTER_QUEUE.envVar]),
);
const store: JobStore = new OptimisticPublishingStore(
  dynamoStore,
  { start: (jobId, run) => sagaControl.start(jobId, run), handOff: (event) => starterQueue.put(event) },
  config.OPTIMISTIC_PUBLISH === 'true' ? new EventBridgePublisher(new EventBridgeClient({}), { busName: String(config[EVENT_BUS.envVar]), maxAttempts: 1 }) : undefined,
  logger,
  metrics,
);
const history = new EventHistory(client, tableName(OUTBOX_TABLE));
const deliveries = new WebhookDeliveries(client, tableName(WEBHOOK_DELIVERIES_TABLE));
const secrets = new TenantSecrets(client, tableName(TENANTS_TABLE));
// Worker routes: WORKERS_TABLE_NAME, PROVISION_WORKER_ARN, FLEET_STACK_NAME, JOB_SAGA_ARN and AWS_REGION are required.
// EC2 only describes and terminates here (a forced removal); launches go through the provisioning saga.
// Metrics: POST /v1/workers/{id}/refresh collects a worker now, /monitoring switches EC2 detailed monitoring.
const fleet = fleetFromEnv({ ec2: true, queueDepth: false, releaseJobs: true, metrics: metricsRecorder(metrics) });
// One bucket per tenant in the counters table, shared by every instance of this function (and by `npm start`,
// which runs this module): a bucket per instance would let N instances admit N times the limit.
const tenantLimit = readTenantRateLimit();
const tenantRateLimit = new TenantRateLimit({
  limiter: new DynamoRateLimiter(client, { table: tableName(COUNTERS_TABLE), limits: tenantLimit, lease: tenantRateLimitLease(tenantLimit) }),
  limit: tenantLimit,
  logger,
});
// GET /v1/jobs/{id}/logs reads the stack's job log group (GetLogEvents), or the local runtime's store.
const jobLogs = openJobLogStore(readJobLogTarget());
const api = createApi({ store, history, deliveries, secrets, clock: systemClock, logger, metrics, workers: fleet.workers, tenantRateLimit, jobLogs });

export const handler = async (event: HttpEvent, context: Context): Promise<HttpResult> => {
  logger.addContext(context);
  try {
    return await api(event);
  } finally {
    flushMetrics(metrics);
  }
};
