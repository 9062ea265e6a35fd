import { EventHistory } from '../adapters/dynamodb/event-history.ts';
import { createDocumentClient } from '../adapters/dynamodb/client.ts';
import { HTTP_FUNCTIONS } from '../declarations/http-functions.ts';
import { COUNTERS_TABLE, OUTBOX_TABLE } from '../declarations/tables.ts';
import { fleetFromEnv } from '../fleet/wiring.ts';
import { readTableNames } from '../shared/config.ts';
import { metricsRecorder } from '../shared/platform-metrics.ts';
import { apiTelemetry, httpApi, lambdaHandler } from './pipeline.ts';
import { workerRoutes } from './worker-routes.ts';
import { tenantRateLimitFromEnv } from './wiring.ts';

// The workers-api function (HTTP_FUNCTIONS.workersApi): the `/v1/workers` routes, the only HTTP function with the
// fleet's code and rights. Wiring happens once per cold start; a missing variable fails here with its name.
const tableName = readTableNames([OUTBOX_TABLE, COUNTERS_TABLE]);
const { logger, metrics } = apiTelemetry();
const client = createDocumentClient();
// WORKERS_TABLE_NAME, JOBS_TABLE_NAME, PROVISION_WORKER_ARN, FLEET_STACK_NAME, JOB_SAGA_ARN and AWS_REGION are
// required. EC2 only describes and terminates here (a forced removal); launches go through the provisioning saga.
// Metrics: POST /v1/workers/{id}/refresh collects a worker now, /monitoring switches EC2 detailed monitoring.
const fleet = fleetFromEnv({ ...HTTP_FUNCTIONS.workersApi.fleet, metrics: metricsRecorder(metrics) });
// Worker events are kept in the outbox like job events, under the worker id.
const routes = workerRoutes({ workers: fleet.workers, history: new EventHistory(client, tableName(OUTBOX_TABLE)) });
// The same buckets as the api's: a tenant's limit holds across both functions.
const tenantRateLimit = tenantRateLimitFromEnv(client, tableName(COUNTERS_TABLE), logger);

export const handler = lambdaHandler(httpApi(routes, { logger, metrics, tenantRateLimit }), { logger, metrics });
