import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { createDocumentClient } from '../../adapters/dynamodb/client.ts';
import { DynamoInbox } from '../../adapters/dynamodb/inbox.ts';
import { INBOX_TABLE, JOB_EVENTS_TABLE } from '../../declarations/tables.ts';
import { readTableNames } from '../../shared/config.ts';
import { createEventConsumer } from '../consumer.ts';
import { HISTORY_CONSUMER, JobHistory } from './history.ts';

const tableName = readTableNames([INBOX_TABLE, JOB_EVENTS_TABLE]);
const client = createDocumentClient();
const inbox = new DynamoInbox(client, tableName(INBOX_TABLE));
const history = new JobHistory(client, tableName(JOB_EVENTS_TABLE));

export const handler = createEventConsumer({
  name: HISTORY_CONSUMER,
  logger: new Logger({ serviceName: 'forgeflow-job-history' }),
  metrics: new Metrics({ namespace: 'Forgeflow', serviceName: 'forgeflow-job-history' }),
  handle: (event) => history.record(inbox, event),
});
