import { Duration } from 'aws-cdk-lib';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { Construct } from 'constructs';
import { EVENT_BUS } from '../functions/declarations/events.ts';
import {
  COUNTERS_TABLE,
  JOB_EVENTS_TABLE,
  JOBS_TABLE,
  OUTBOX_TABLE,
  TENANTS_TABLE,
  WEBHOOK_DELIVERIES_TABLE,
} from '../functions/declarations/tables.ts';
import { ForgeflowFunction } from './lambda-function.ts';
import { bindTable } from './table-access.ts';
import type { ForgeflowTables } from './tables.ts';

// Kept as exports of this module: other code and the tests import them from here.
export { FUNCTION_BUNDLING, FUNCTION_RUNTIME, POWERTOOLS_NAMESPACE } from './lambda-function.ts';

export const API_SERVICE_NAME = 'forgeflow-api';

export interface ApiFunctionProps {
  readonly tables: ForgeflowTables;
  /** The bus the api publishes to optimistically after each commit (the outbox relay remains the sure path). */
  readonly eventBus: IEventBus;
}

/**
 * The api Lambda (functions/api/handler.ts) with its own log group and a role that holds nothing but what it uses:
 * write to its log group, X-Ray, each table at the access it needs, and PutEvents on the Forgeflow bus.
 */
export class ApiFunction extends ForgeflowFunction {
  constructor(scope: Construct, id: string, props: ApiFunctionProps) {
    super(scope, id, {
      entry: 'functions/api/handler.ts',
      description: 'Forgeflow job API (HTTP API payload v2)',
      serviceName: API_SERVICE_NAME,
      memorySize: 512,
      timeout: Duration.seconds(10),
    });
    const fn: NodejsFunction = this.function;

    // Each call sets the table's env var (named by its declaration) and grants access: they cannot drift apart.
    bindTable(fn, props.tables.get(JOBS_TABLE), 'readWrite');
    bindTable(fn, props.tables.get(OUTBOX_TABLE), 'append');
    bindTable(fn, props.tables.get(COUNTERS_TABLE), 'readWrite');
    // GET /v1/jobs/{id}/events and /v1/jobs/{id}/webhook-deliveries only read what the consumers wrote.
    bindTable(fn, props.tables.get(JOB_EVENTS_TABLE), 'read');
    bindTable(fn, props.tables.get(WEBHOOK_DELIVERIES_TABLE), 'read');
    // GET /v1/webhooks/secret reads the tenant's signing secret and creates it (a conditional put) on first use.
    bindTable(fn, props.tables.get(TENANTS_TABLE), ['read', 'append']);

    // Optimistic publish (OPTIMISTIC_PUBLISH, default 'true' in the handler) needs the bus name and PutEvents on
    // this bus alone.
    fn.addEnvironment(EVENT_BUS.envVar, props.eventBus.eventBusName);
    props.eventBus.grantPutEventsTo(fn);
  }
}
