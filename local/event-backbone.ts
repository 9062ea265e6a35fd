import { join } from 'node:path';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { DynamoDBStreamEvent, SQSEvent } from 'aws-lambda';
import { EVENT_BUS, RULES } from '../functions/declarations/events.ts';
import { onFailureMessage } from '../functions/relay/on-failure.ts';
import { ADMISSION_QUEUE, JOB_CONTROL_QUEUE, RELAY_FAILURE_QUEUE, SAGA_STARTER_QUEUE, SCALER_QUEUE, WEBHOOKS_QUEUE, type QueueDefinition } from '../functions/declarations/queues.ts';
import { DISPATCH_QUEUES, WORKER_REPORTS_QUEUE } from '../functions/declarations/workers.ts';
import { JOB_EVENT_STREAM_FILTER, OUTBOX_EVENT_STREAM_FILTER } from '../functions/adapters/dynamodb/outbox-item.ts';
import { JOBS_TABLE, localTableName, OUTBOX_TABLE, type TableDefinition } from '../functions/declarations/tables.ts';
import { LOCAL_REGION, type LocalCredentials } from './dynamodb-local.ts';
import { LocalEventBus } from './event-bus.ts';
import { compilePattern } from './event-pattern.ts';
import { startJsonProtocolServer, type JsonProtocolServer, type Operation } from './json-protocol-server.ts';
import { importHandler, invoker, onInvocationEnd } from './lambda.ts';
import { LAMBDA_WAIT_TIME_SECONDS, startSqsPoller, type SqsPoller } from './sqs-poller.ts';
import { startLocalSqs, type LocalSqs } from './sqs.ts';
import { fileCheckpointStore, memoryCheckpointStore } from './stream-checkpoints.ts';
import { startStreamPoller, type StreamPoller } from './stream-poller.ts';
import { withoutCallLogging } from '../functions/adapters/sdk-call-logging.ts';

export interface LocalConsumer {
  queue: QueueDefinition;
  /** The queue itself, or its DLQ (the dispatch DLQ consumer). */
  source: 'queue' | 'dlq';
  handler: string;
  functionName: string;
}

/** Consumer functions and the queues that feed them, as the CDK app wires them. */
export const LOCAL_CONSUMERS: readonly LocalConsumer[] = [
  { queue: WEBHOOKS_QUEUE, source: 'queue', handler: '../functions/consumers/webhooks/handler.ts', functionName: 'forgeflow-webhooks' },
  { queue: SAGA_STARTER_QUEUE, source: 'queue', handler: '../functions/consumers/saga-starter/handler.ts', functionName: 'forgeflow-saga-starter' },
  { queue: JOB_CONTROL_QUEUE, source: 'queue', handler: '../functions/consumers/job-control/handler.ts', functionName: 'forgeflow-job-control' },
  { queue: ADMISSION_QUEUE, source: 'queue', handler: '../functions/consumers/admission/handler.ts', functionName: 'forgeflow-admission' },
  { queue: WORKER_REPORTS_QUEUE, source: 'queue', handler: '../functions/consumers/worker-reports/handler.ts', functionName: 'forgeflow-worker-reports' },
  ...DISPATCH_QUEUES.map((queue) => ({ queue, source: 'dlq' as const, handler: '../functions/consumers/dispatch-dlq/handler.ts', functionName: `forgeflow-dispatch-dlq-${queue.name}` })),
];

/**
 * Every queue the local runtime creates: the consumers', the dispatch queues the agents poll, and the scaler's
 * nudges (polled by the local fleet, whose scaler runs in-process with the local worker provider).
 */
const LOCAL_QUEUES: readonly QueueDefinition[] = [...new Set([...LOCAL_CONSUMERS.map((c) => c.queue), ...DISPATCH_QUEUES, WORKER_REPORTS_QUEUE, SCALER_QUEUE])];

export interface EventBackbone {
  sqs: LocalSqs;
  /** The loopback endpoint of the JSON-protocol services, also serving Lambda Invoke and the EC2 query slice. */
  endpoint: JsonProtocolServer;
  bus: LocalEventBus;
  /** Variables the functions need to reach the local SQS and bus, and the queue URLs they read. */
  env: Record<string, string>;
  queueUrls: Map<string, string>;
  /**
   * Imports the relay and consumer handlers (after `env` is applied) and starts their pollers. `durableStreams`:
   * the tables outlive this process, so the stream pollers keep their positions on disk under `home`.
   */
  startFunctions(options: { dynamoDbEndpoint: string; credentials: LocalCredentials; home: string; durableStreams: boolean; log: (message: string) => void }): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The event backbone of the local runtime: fauxqs with the declared queues, a local EventBridge bus with the
 * declared rules behind an AWS JSON-protocol endpoint, the outbox stream poller in front of the relay handler, and
 * SQS pollers in front of the consumers. Extra JSON-protocol operations (Step Functions) can share the endpoint.
 */
export async function startEventBackbone(extraOperations: (sqs: LocalSqs) => Record<string, Operation> = () => ({})): Promise<EventBackbone> {
  const sqs = await startLocalSqs();
  const stops: Array<() => Promise<void>> = [() => sqs.stop()];
  const queueUrls = new Map<string, string>();
  const env: Record<string, string> = { AWS_ENDPOINT_URL_SQS: sqs.endpoint, WEBHOOK_ALLOW_HTTP: 'true', WEBHOOK_ALLOW_LOOPBACK: 'true' };
  for (const queue of LOCAL_QUEUES) {
    const ensured = await sqs.ensureQueue(queue);
    queueUrls.set(queue.name, ensured.url);
    queueUrls.set(queue.dlq.name, ensured.dlqUrl);
    env[queue.envVar] = ensured.url;
    env[queue.dlq.envVar] = ensured.dlqUrl;
  }
  const relayFailures = await sqs.ensurePlainQueue(RELAY_FAILURE_QUEUE.name, { retentionSeconds: RELAY_FAILURE_QUEUE.retentionSeconds });
  env[RELAY_FAILURE_QUEUE.envVar] = relayFailures.url;

  const bus = new LocalEventBus(EVENT_BUS.name, RULES, (rule) => async (body) => {
    const url = queueUrls.get(rule.target.name);
    if (!url) throw new Error(`Rule ${rule.name} targets ${rule.target.name}, which the local runtime did not create`);
    await sqs.client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body }));
  });
  const endpoint = await startJsonProtocolServer({ ...bus.operations(), ...extraOperations(sqs) });
  stops.unshift(() => endpoint.close());
  env.AWS_ENDPOINT_URL_EVENTBRIDGE = endpoint.endpoint;
  env.AWS_ENDPOINT_URL_SFN = endpoint.endpoint;
  env.AWS_ENDPOINT_URL_LAMBDA = endpoint.endpoint;
  env.AWS_ENDPOINT_URL_EC2 = endpoint.endpoint;
  env[EVENT_BUS.envVar] = EVENT_BUS.name;

  const streamPollers: StreamPoller[] = [];
  const sqsPollers: SqsPoller[] = [];
  return {
    sqs,
    endpoint,
    bus,
    env,
    queueUrls,
    async startFunctions({ dynamoDbEndpoint, credentials, home, durableStreams, log }) {
      const clientConfig = { endpoint: dynamoDbEndpoint, region: LOCAL_REGION, credentials };
      const ddb = new DynamoDBClient(clientConfig);
      const streamArn = async (table: TableDefinition) => (await ddb.send(new DescribeTableCommand({ TableName: localTableName(table) }))).Table!.LatestStreamArn!;
      const [outboxArn, jobsArn] = await Promise.all([streamArn(OUTBOX_TABLE), streamArn(JOBS_TABLE)]);
      ddb.destroy();
      const relay = invoker('forgeflow-relay', await importHandler<DynamoDBStreamEvent, { batchItemFailures: { itemIdentifier: string }[] }>('../functions/relay/handler.ts'), 60_000);
      const streamsClient = withoutCallLogging(new DynamoDBStreamsClient(clientConfig));
      // The relay's two event source mappings in the CDK app, each with its filter: the outbox stream's new rows that
      // hold an event to publish, and the jobs stream's writes that carry one.
      for (const source of [
        { name: 'outbox', streamArn: outboxArn, filter: compilePattern(OUTBOX_EVENT_STREAM_FILTER) },
        { name: 'jobs', streamArn: jobsArn, filter: compilePattern(JOB_EVENT_STREAM_FILTER) },
      ]) {
        streamPollers.push(
          startStreamPoller({
            streamsClient,
            streamArn: source.streamArn,
            handler: relay,
            filter: source.filter,
            checkpointStore: durableStreams ? fileCheckpointStore(join(home, 'checkpoints', `${source.name}-stream.json`)) : memoryCheckpointStore(),
            // The same failure policy as the event source mappings in the CDK app.
            maximumRetryAttempts: 3,
            maximumRecordAgeSeconds: 3600,
            bisectBatchOnFunctionError: true,
            // Every table write wakes the pollers (below), so their timed reads only back that up: once a second, not
            // Lambda's four, and a look for new shards every 10 s (a drained shard still looks at once). Idle, that is
            // 1 GetRecords a second instead of 4, and 0.1 DescribeStream instead of 1.
            pollIntervalMs: 1000,
            shardDiscoveryIntervalMs: 10_000,
            onFailure: async (records, info) => {
              log(`relay gave up on ${records.length} ${source.name} record(s) (${info.reason}); their position is in ${RELAY_FAILURE_QUEUE.name} (npm run replay-relay-failures)`);
              // What Lambda sends: where the batch is in the stream, not its records (the replay reads them back).
              const message = onFailureMessage({ streamArn: info.streamArn, shardId: info.shardId, startSequenceNumber: info.startSequenceNumber ?? '', endSequenceNumber: info.endSequenceNumber ?? '', batchSize: info.batchSize, condition: info.reason, attempts: info.attempts });
              await sqs.client.send(new SendMessageCommand({ QueueUrl: relayFailures.url, MessageBody: JSON.stringify(message) }));
            },
            onError: (error, context) => {
              // DynamoDB Local answers a fresh shard's first read this way; the poller re-reads from the checkpoint.
              if ((error as Error).name !== 'TrimmedDataAccessException') log(`${source.name} stream: ${context.operation} failed: ${(error as Error).message}`);
            },
          }),
        );
      }
      // Every table write comes from a function invoked in this process: read the streams as soon as one ends.
      const unsubscribe = onInvocationEnd(() => streamPollers.forEach((poller) => poller.wake()));
      stops.unshift(async () => unsubscribe(), async () => streamsClient.destroy());
      for (const consumer of LOCAL_CONSUMERS) {
        const handler = invoker(consumer.functionName, await importHandler<SQSEvent, { batchItemFailures: { itemIdentifier: string }[] }>(consumer.handler), consumer.queue.visibilityTimeoutSeconds * 1000);
        sqsPollers.push(
          startSqsPoller({
            client: sqs.client,
            queueUrl: queueUrls.get(consumer.source === 'dlq' ? consumer.queue.dlq.name : consumer.queue.name)!,
            handler: (event) => handler(event),
            batchSize: consumer.queue.batchSize,
            ...(consumer.queue.maxBatchingWindowSeconds ? { maxBatchingWindowSeconds: consumer.queue.maxBatchingWindowSeconds } : {}),
            concurrency: 4,
            // Lambda's own wait: an idle queue costs one receive per 20 s, not one a second, and stop() abandons
            // the receives in flight (the queues end with the runtime), so a stop does not wait them out.
            waitTimeSeconds: LAMBDA_WAIT_TIME_SECONDS,
            functionName: consumer.functionName,
            functionTimeoutSeconds: consumer.queue.visibilityTimeoutSeconds,
            onError: (error, info) => {
              if (info.phase !== 'handler') log(`${consumer.functionName}: ${info.phase} failed: ${(error as Error).message}`);
            },
          }),
        );
      }
    },
    async stop() {
      // Pollers first (they finish in-flight batches and save checkpoints), then the servers they talk to. The queues
      // end here with fauxqs, so no receive is worth waiting out: 1 s of every stop, and of every Ctrl-C.
      await Promise.all([...streamPollers.map((p) => p.stop()), ...sqsPollers.map((p) => p.stop({ abandonReceives: true }))]);
      for (const stop of stops) await stop();
    },
  };
}
