import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { createDocumentClient } from '../adapters/dynamodb/client.ts';
import { DynamoJobStore } from '../adapters/dynamodb/job-store.ts';
import { systemClock } from '../core/ports.ts';
import { readConfig, TABLE_ENV, tableNamesFrom } from '../shared/config.ts';
import { createApi } from './app.ts';
import type { HttpEvent, HttpResult } from './http.ts';

// Wiring happens once per cold start; a missing variable fails here with its name, not mid-request.
const config = readConfig(TABLE_ENV);
const logger = new Logger({ serviceName: 'forgeflow-api' });
const metrics = new Metrics({ namespace: 'Forgeflow', serviceName: 'forgeflow-api' });
const store = new DynamoJobStore(createDocumentClient(), tableNamesFrom(config));
const api = createApi({ store, clock: systemClock, logger, metrics });

export const handler = async (event: HttpEvent, context: Context): Promise<HttpResult> => {
  logger.addContext(context);
  try {
    return await api(event);
  } finally {
    metrics.publishStoredMetrics();
  }
};
