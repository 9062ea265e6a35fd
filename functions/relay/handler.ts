import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { Context, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import * as z from 'zod';
import { createDocumentClient } from '../adapters/dynamodb/client.ts';
import { DynamoOutboxAppender } from '../adapters/dynamodb/outbox-appender.ts';
import { EventBridgePublisher } from '../adapters/eventbridge/event-publisher.ts';
import { EVENT_BUS } from '../declarations/events.ts';
import { OUTBOX_TABLE } from '../declarations/tables.ts';
import { METRICS_NAMESPACE } from '../declarations/metrics.ts';
import { readConfig } from '../shared/config.ts';
import { forwardBatch, isJobsStreamBatch } from './forward.ts';
import { relayBatch } from './relay.ts';
import { flushMetrics } from '../shared/metrics.ts';

const config = readConfig({ [EVENT_BUS.envVar]: z.string().min(1), [OUTBOX_TABLE.envVar]: z.string().min(1) });
const logger = new Logger({ serviceName: 'forgeflow-relay' });
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'forgeflow-relay' });
const publisher = new EventBridgePublisher(new EventBridgeClient({}), { busName: config[EVENT_BUS.envVar]! });
const outbox = new DynamoOutboxAppender(createDocumentClient(), { tableName: config[OUTBOX_TABLE.envVar]! });

/**
 * Outbox stream → EventBridge, and jobs stream → outbox and EventBridge (the events that job writes of their own
 * carry; a batch comes from one stream). The batch is published up front (ten events per PutEvents); the Powertools batch
 * processor then reports each record that failed, so Lambda retries from the first failure (and bisects, and
 * finally sends a poison record to the on-failure destination) while the rest of the shard moves on.
 */
export const handler = async (event: DynamoDBStreamEvent, context: Context) => {
  logger.addContext(context);
  const errors = isJobsStreamBatch(event.Records) ? await forwardBatch(event.Records, { outbox, publisher, metrics }) : await relayBatch(event.Records, publisher, { metrics });
  const recordHandler = async (record: DynamoDBRecord) => {
    const error = errors.get(record.dynamodb?.SequenceNumber ?? '');
    if (error) {
      logger.warn('record not relayed', { sequenceNumber: record.dynamodb?.SequenceNumber, error: error.message });
      throw error;
    }
  };
  try {
    // A processor per invocation: it keeps the batch's state, and the local poller may overlap invocations.
    return await processPartialResponse(event, recordHandler, new BatchProcessor(EventType.DynamoDBStreams), { context });
  } finally {
    flushMetrics(metrics);
  }
};
