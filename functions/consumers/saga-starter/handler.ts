import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { SFNClient } from '@aws-sdk/client-sfn';
import * as z from 'zod';
import { lazySqs, sqsEndpointConfig } from '../../adapters/lazy-clients.ts';
import { SagaControl } from '../../adapters/stepfunctions/saga-control.ts';
import { SAGA_STARTER_QUEUE } from '../../declarations/queues.ts';
import { JOB_SAGA } from '../../declarations/statemachines.ts';
import { readConfig } from '../../shared/config.ts';
import { SagaStarterQueue } from '../../adapters/sqs/saga-starter-queue.ts';
import { createEventConsumer } from '../consumer.ts';
import { sagaStarter } from './saga-starter.ts';

const config = readConfig({ [JOB_SAGA.envVar]: z.string().startsWith('arn:'), [SAGA_STARTER_QUEUE.envVar]: z.url() });
// Made on first use: the starter puts a message back only when Step Functions throttled a start.
const ownQueue = new SagaStarterQueue(lazySqs(sqsEndpointConfig()), String(config[SAGA_STARTER_QUEUE.envVar]));

export const handler = createEventConsumer({
  name: 'saga-starter',
  logger: new Logger({ serviceName: 'forgeflow-saga-starter' }),
  metrics: new Metrics({ namespace: 'Forgeflow', serviceName: 'forgeflow-saga-starter' }),
  handle: sagaStarter({
    saga: new SagaControl(new SFNClient({}), String(config[JOB_SAGA.envVar])),
    defer: (event, delaySeconds) => ownQueue.put(event, delaySeconds),
  }),
});
