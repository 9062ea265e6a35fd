import { Duration } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { EVENT_BUS } from '../functions/declarations/events.ts';
import { API_SERVICE_NAME, HTTP_FUNCTIONS } from '../functions/declarations/http-functions.ts';
import { SAGA_STARTER_QUEUE } from '../functions/declarations/queues.ts';
import { JOB_SAGA } from '../functions/declarations/statemachines.ts';
import { COUNTERS_TABLE, JOBS_TABLE, OUTBOX_TABLE, TENANTS_TABLE, WEBHOOK_DELIVERIES_TABLE } from '../functions/declarations/tables.ts';
import { grantReadWorkerMetrics, grantSwitchMonitoring, METRIC_READS_REASON } from './metrics-collector-function.ts';
import { bindFleet, DESCRIBE_INSTANCES_REASON, grantStartProvisioning, grantTerminateStackInstances, type FleetBinding } from './fleet-access.ts';
import { ForgeflowFunction } from './lambda-function.ts';
import type { JobLogs } from './job-logs.ts';
import { API_TIMEOUT_SECONDS } from '../functions/declarations/job-logs.ts';
import { bindTable } from './table-access.ts';
import type { ForgeflowTables } from './tables.ts';

// Kept as exports of this module: other code and the tests import them from here.
export { FUNCTION_RUNTIME, POWERTOOLS_NAMESPACE } from './lambda-function.ts';
export { FUNCTION_BUNDLING } from './function-code.ts';
export { API_SERVICE_NAME } from '../functions/declarations/http-functions.ts';

export interface ApiFunctionProps {
  readonly tables: ForgeflowTables;
  /** The bus the api publishes to optimistically after each commit (the outbox relay remains the sure path). */
  readonly eventBus: IEventBus;
  /** Where the api hands a queued run whose saga it could not start (the starter retries it). */
  readonly sagaStarterQueue: IQueue;
  /** The job saga's ARN, built from its name (stateMachineArnOf): the api starts a submitted job's run. */
  readonly jobSagaArn: string;
  /** GET /v1/jobs/{id}/logs reads the job log group's streams. */
  readonly jobLogs: JobLogs;
}

/**
 * The api Lambda (HTTP_FUNCTIONS.api: jobs, webhooks, stats, health) with its own log group and a role that holds
 * nothing but what it uses: write to its log group, X-Ray, each table at the access it needs, PutEvents on the
 * Forgeflow bus, StartExecution of the job saga (a submitted job's run), SendMessage to the saga starter's queue (a
 * start that failed) and GetLogEvents on the job log group. Nothing of the fleet: that is WorkersApiFunction's.
 */
export class ApiFunction extends ForgeflowFunction {
  constructor(scope: Construct, id: string, props: ApiFunctionProps) {
    super(scope, id, {
      entry: HTTP_FUNCTIONS.api.entry,
      description: 'Forgeflow job API (HTTP API payload v2)',
      serviceName: API_SERVICE_NAME,
      memorySize: 512,
      // A follow of a job's output (?follow=true) waits up to JOB_LOGS.followWaitSeconds for new output.
      timeout: Duration.seconds(API_TIMEOUT_SECONDS),
    });
    const fn: LambdaFunction = this.function;

    // Each call sets the table's env var (named by its declaration) and grants access: they cannot drift apart.
    bindTable(fn, props.tables.get(JOBS_TABLE), 'readWrite');
    // The outbox takes each change's event and is also its history: GET /v1/jobs/{id}/events Queries it by subject.
    bindTable(fn, props.tables.get(OUTBOX_TABLE), ['append', 'read']);
    // Stats and slots, and each tenant's request bucket (functions/api/tenant-rate-limit.ts: one conditional
    // UpdateItem per request, or none). A platform admin's stats Scan the tenants' counters and sum them
    // (functions/adapters/dynamodb/job-counters.ts): no state change writes platform-wide counters.
    bindTable(fn, props.tables.get(COUNTERS_TABLE), ['readWrite', 'scan']);
    // GET /v1/jobs/{id}/webhook-deliveries only reads what the webhooks consumer wrote.
    bindTable(fn, props.tables.get(WEBHOOK_DELIVERIES_TABLE), 'read');
    // GET /v1/webhooks/secret reads the tenant's signing secret and creates it (a conditional put) on first use;
    // PUT and DELETE /v1/webhooks/worker-alerts update the subscriptions item.
    bindTable(fn, props.tables.get(TENANTS_TABLE), ['read', 'append', 'update']);

    // The fast path (OPTIMISTIC_PUBLISH, default 'true' in the handler) publishes to this bus alone, and starts a
    // queued run's saga directly: StartExecution on the job saga only.
    fn.addEnvironment(EVENT_BUS.envVar, props.eventBus.eventBusName);
    props.eventBus.grantPutEventsTo(fn);
    fn.addEnvironment(JOB_SAGA.envVar, props.jobSagaArn);
    fn.addToRolePolicy(new PolicyStatement({ sid: 'StartJobSagas', actions: ['states:StartExecution'], resources: [props.jobSagaArn] }));
    // A start that fails goes to the saga starter's queue, which nothing else feeds but the starter itself.
    fn.addEnvironment(SAGA_STARTER_QUEUE.envVar, props.sagaStarterQueue.queueUrl);
    props.sagaStarterQueue.grantSendMessages(fn);
    // GET /v1/jobs/{id}/logs: GetLogEvents on the job log group's streams, nothing else of CloudWatch Logs.
    props.jobLogs.bindReader(fn);
  }
}

/**
 * The workers-api Lambda (HTTP_FUNCTIONS.workersApi: `/v1/workers`): the fleet's store and its job releaser
 * (functions/fleet/wiring.ts with the declared wiring), the outbox read for worker histories and the counters
 * table for the tenant rate limit; StartExecution of the provisioning saga (a new worker), TerminateInstances on
 * this stack's instances (a removed worker), SendTaskFailure on the job saga (the jobs a removed worker held),
 * reading worker metrics and switching detailed monitoring of this stack's instances.
 */
export class WorkersApiFunction extends ForgeflowFunction {
  constructor(scope: Construct, id: string, props: { readonly fleet: FleetBinding }) {
    super(scope, id, {
      entry: HTTP_FUNCTIONS.workersApi.entry,
      description: 'Forgeflow workers API: /v1/workers (HTTP API payload v2)',
      serviceName: API_SERVICE_NAME,
      memorySize: 512,
      // Under API Gateway's 30 s integration limit, like the api: a refresh waits on EC2 and CloudWatch.
      timeout: Duration.seconds(API_TIMEOUT_SECONDS),
      extraWildcardReason: `${DESCRIBE_INSTANCES_REASON} ${METRIC_READS_REASON}`,
    });
    // Workers read and written, their events appended, the class counts and EC2 buckets in the counters table (the
    // tenant's request bucket too), the jobs a removed worker held read for their task tokens.
    bindFleet(this, props.fleet, HTTP_FUNCTIONS.workersApi.fleet);
    // GET /v1/workers/{id}/events Queries the outbox by subject.
    bindTable(this.function, props.fleet.tables.get(OUTBOX_TABLE), 'read');
    grantStartProvisioning(this, props.fleet);
    grantTerminateStackInstances(this, props.fleet);
    // POST /v1/workers/{id}/refresh collects one worker now; /monitoring switches EC2 detailed monitoring.
    grantReadWorkerMetrics(this);
    grantSwitchMonitoring(this, props.fleet);
  }
}

/**
 * The openapi Lambda (HTTP_FUNCTIONS.openApi: `GET /openapi.json`): it builds the description from the routes'
 * code and calls nothing, so its role may write its own logs and X-Ray, and nothing else.
 */
export class OpenApiFunction extends ForgeflowFunction {
  constructor(scope: Construct, id: string) {
    super(scope, id, {
      entry: HTTP_FUNCTIONS.openApi.entry,
      description: 'Forgeflow API description: GET /openapi.json',
      serviceName: API_SERVICE_NAME,
      // Memory buys CPU for the one build per instance, at its first request (about half a second on a 2-core laptop).
      memorySize: 512,
      timeout: Duration.seconds(10),
    });
  }
}
