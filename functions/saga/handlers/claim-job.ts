import { SQSClient } from '@aws-sdk/client-sqs';
import { sqsEndpointConfig } from '../../adapters/lazy-clients.ts';
import { SqsDispatchQueues } from '../../adapters/sqs/dispatch-queues.ts';
import { claimJobStep } from '../steps.ts';
import { sagaServiceFromEnv } from '../wiring.ts';

/**
 * Lambda entry of the saga's ClaimJob state: configuration is read once, here, at cold start. It sends a dispatch on
 * every invocation, so its SQS client is made now, not on first use.
 */
const step = claimJobStep(
  sagaServiceFromEnv({ dispatch: true }),
  new SqsDispatchQueues(new SQSClient(sqsEndpointConfig())),
);

export const handler = (event: unknown): Promise<unknown> => step(event);
