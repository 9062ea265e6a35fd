import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { SFNClient } from '@aws-sdk/client-sfn';
import { createDocumentClient } from '../../adapters/dynamodb/client.ts';
import { DynamoInbox } from '../../adapters/dynamodb/inbox.ts';
import { DynamoJobStore } from '../../adapters/dynamodb/job-store.ts';
import { SagaControl } from '../../adapters/stepfunctions/saga-control.ts';
import { JOB_CONTROL_QUEUE } from '../../declarations/queues.ts';
import { JOB_SAGA } from '../../declarations/statemachines.ts';
import { COUNTERS_TABLE, INBOX_TABLE, JOBS_TABLE, OUTBOX_TABLE } from '../../declarations/tables.ts';
import { readStateMachineArn, readTableNames } from '../../shared/config.ts';
import { createEventConsumer } from '../consumer.ts';
import { JOB_CONTROL, jobControl } from './job-control.ts';

const tableName = readTableNames([INBOX_TABLE, JOBS_TABLE, OUTBOX_TABLE, COUNTERS_TABLE]);
const sagaArn = readStateMachineArn(JOB_SAGA);
const client = createDocumentClient();

export const handler = createEventConsumer({
  name: JOB_CONTROL,
  logger: new Logger({ serviceName: 'forgeflow-job-control' }),
  metrics: new Metrics({ namespace: 'Forgeflow', serviceName: 'forgeflow-job-control' }),
  handle: jobControl({
    inbox: new DynamoInbox(client, tableName(INBOX_TABLE)),
    saga: new SagaControl(new SFNClient({}), sagaArn),
    store: new DynamoJobStore(client, { jobs: tableName(JOBS_TABLE), outbox: tableName(OUTBOX_TABLE), counters: tableName(COUNTERS_TABLE) }),
    leaseSeconds: JOB_CONTROL_QUEUE.visibilityTimeoutSeconds,
  }),
});
