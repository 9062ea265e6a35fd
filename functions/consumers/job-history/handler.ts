import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { createDocumentClient } from '../../adapters/dynamodb/client.ts';
import { DynamoInbox } from '../../adapters/dynamodb/inbox.ts';
import { METRICS_NAMESPACE } from '../../declarations/metrics.ts';
import { INBOX_TABLE, JOB_EVENTS_TABLE } from '../../declarations/tables.ts';
import { readTableNames } from '../../shared/config.ts';
import { JobHistory } from './history.ts';
import { historyConsumer } from './history-consumer.ts';

const tableName = readTableNames([INBOX_TABLE, JOB_EVENTS_TABLE]);
const client = createDocumentClient();

export const handler = historyConsumer({
  history: new JobHistory(client, tableName(JOB_EVENTS_TABLE)),
  inbox: new DynamoInbox(client, tableName(INBOX_TABLE)),
  logger: new Logger({ serviceName: 'forgeflow-job-history' }),
  metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'forgeflow-job-history' }),
});
