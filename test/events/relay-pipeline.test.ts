import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { DynamoDBRecord, DynamoDBStreamEvent, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoJobStore } from '../../functions/adapters/dynamodb/job-store.ts';
import { DynamoOutboxAppender } from '../../functions/adapters/dynamodb/outbox-appender.ts';
import { JOB_EVENT_STREAM_FILTER, outboxRow } from '../../functions/adapters/dynamodb/outbox-item.ts';
import { jobEvent } from '../../functions/core/events.ts';
import { compilePattern } from '../../local/event-pattern.ts';
import { moveJob } from '../support/job-fixtures.ts';
import { createEventConsumer } from '../../functions/consumers/consumer.ts';
import { JobService } from '../../functions/core/job-service.ts';
import { JobSpecSchema } from '../../functions/core/job.ts';
import { systemClock } from '../../functions/core/ports.ts';
import { EVENT_BUS, type RuleDefinition } from '../../functions/declarations/events.ts';
import { EVENT_SOURCE } from '../../functions/core/events.ts';
import { RELAY_FAILURE_QUEUE, SAGA_STARTER_QUEUE } from '../../functions/declarations/queues.ts';
import { LocalEventBus } from '../../local/event-bus.ts';
import { startJsonProtocolServer } from '../../local/json-protocol-server.ts';
import { onFailureMessage } from '../../functions/relay/on-failure.ts';
import { replayRelayFailures } from '../../functions/relay/replay.ts';
import { EventBridgePublisher } from '../../functions/adapters/eventbridge/event-publisher.ts';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { importHandler, invoker, setEnvironment } from '../../local/lambda.ts';
import { startSqsPoller } from '../../local/sqs-poller.ts';
import { startLocalSqs } from '../../local/sqs.ts';
import { fileCheckpointStore, type CheckpointStore } from '../../local/stream-checkpoints.ts';
import { startStreamPoller } from '../../local/stream-poller.ts';
import { createTestTables, localClientConfig } from '../support/dynamodb.ts';
import { waitFor } from '../support/wait.ts';

/**
 * The whole backbone on one machine: outbox stream → stream poller → the real relay handler → local bus (declared
 * rules) → SQS → a consumer on the saga starter's queue (its rule takes JobQueued) that notes what arrived.
 */
describe('Outbox relay pipeline', () => {
  let tables: Awaited<ReturnType<typeof createTestTables>>;
  let sqs: Awaited<ReturnType<typeof startLocalSqs>>;
  let bus: LocalEventBus;
  let endpoint: Awaited<ReturnType<typeof startJsonProtocolServer>>;
  let relay: (event: DynamoDBStreamEvent) => Promise<unknown>;
  let streamArn: string;
  /** Event ids that reached the consumer, per job; a redelivery adds nothing. */
  const arrived = new Map<string, Set<string>>();
  const arrivedFor = (jobId: string) => arrived.get(jobId)?.size ?? 0;
  let queueUrl: string;
  let failureUrl: string;
  let restoreEnv: () => void;
  const stops: Array<() => Promise<void>> = [];
  const streams = () => new DynamoDBStreamsClient(localClientConfig());
  const appender = () => new DynamoOutboxAppender(tables.documentClient, { tableName: tables.tableNames.outbox });
  const replay = () => {
    const eventBridge = new EventBridgeClient({ endpoint: endpoint.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    return replayRelayFailures({ sqs: sqs.client, failureQueueUrl: failureUrl, streams: streams(), publisher: new EventBridgePublisher(eventBridge, { busName: EVENT_BUS.name }), outbox: appender() });
  };
  /** A relay whose every invocation fails: it sends what it gives up on to the failure queue, as Lambda would. */
  const brokenRelay = (options: { streamArn: string; error: string; maximumRetryAttempts: number; filter?: (record: DynamoDBRecord) => boolean; mine: (record: DynamoDBRecord) => boolean }) => {
    let discardedMine = false;
    const poller = startStreamPoller({
      streamsClient: streams(), streamArn: options.streamArn, handler: (async () => { throw new Error(options.error); }) as never, maximumRetryAttempts: options.maximumRetryAttempts,
      ...(options.filter ? { filter: options.filter } : {}),
      checkpointStore: fileCheckpointStore(join(mkdtempSync(join(tmpdir(), 'ff-ckpt-')), 'stream.json')),
      onFailure: async (records, info) => {
        if (records.some(options.mine)) discardedMine = true;
        const message = onFailureMessage({ ...info, startSequenceNumber: info.startSequenceNumber!, endSequenceNumber: info.endSequenceNumber!, condition: info.reason });
        await sqs.client.send(new SendMessageCommand({ QueueUrl: failureUrl, MessageBody: JSON.stringify(message) }));
      },
      onError: () => {},
    });
    return { poller, discardedMine: () => discardedMine };
  };
  const service = () => new JobService({ store: new DynamoJobStore(tables.documentClient, tables.tableNames), clock: systemClock });
  const actor = { sub: 'alice', tenantId: 'acme', groups: [] };

  // A rule of the test's own: no declared rule takes every JobQueued (the API starts runs itself).
  const everyJobQueued: RuleDefinition = { id: 'PipelineTestRule', name: 'pipeline-test', description: 'Every JobQueued', pattern: { source: [EVENT_SOURCE], 'detail-type': ['JobQueued'] }, target: SAGA_STARTER_QUEUE };

  beforeAll(async () => {
    tables = await createTestTables();
    sqs = await startLocalSqs();
    queueUrl = (await sqs.ensureQueue(SAGA_STARTER_QUEUE)).url;
    failureUrl = (await sqs.ensurePlainQueue(RELAY_FAILURE_QUEUE.name)).url;
    bus = new LocalEventBus(EVENT_BUS.name, [everyJobQueued], () => async (body) => {
      await sqs.client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
    });
    endpoint = await startJsonProtocolServer(bus.operations());
    restoreEnv = setEnvironment({ ...tables.env, [EVENT_BUS.envVar]: EVENT_BUS.name, AWS_ENDPOINT_URL_EVENTBRIDGE: endpoint.endpoint, AWS_ENDPOINT_URL_DYNAMODB: localClientConfig().endpoint, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' });
    relay = invoker('relay', await importHandler<DynamoDBStreamEvent, unknown>('../functions/relay/handler.ts'), 60_000);
    const { Table } = await tables.client.send(new DescribeTableCommand({ TableName: tables.tableNames.outbox }));
    streamArn = Table!.LatestStreamArn!;
    const consumer = createEventConsumer({
      name: 'pipeline-test',
      logger: new Logger({ logLevel: 'SILENT' }),
      metrics: new Metrics({ namespace: 'T' }),
      handle: async (e) => {
        const ids = arrived.get(e.subject) ?? new Set<string>();
        arrived.set(e.subject, ids);
        if (ids.has(e.id)) return 'duplicate';
        ids.add(e.id);
        return 'applied';
      },
    });
    const poller = startSqsPoller({ client: sqs.client, queueUrl, handler: (e: SQSEvent) => consumer(e, {} as never), batchSize: 10, concurrency: 2, onError: () => {} });
    stops.push(() => poller.stop());
  });

  afterAll(async () => {
    for (const stop of stops.reverse()) await stop();
    await endpoint?.close();
    await sqs?.stop();
    restoreEnv?.();
  });

  it('the local bus refuses a PutEvents request over 256 KB whole, as EventBridge does', async () => {
    // A detail-type no rule matches: accepted entries go nowhere.
    const entry = (kb: number) => ({ Source: 'forgeflow.tests', DetailType: 'SizeProbe', Detail: JSON.stringify({ pad: 'x'.repeat(kb * 1024) }), EventBusName: EVENT_BUS.name });
    await expect(bus.putEvents([entry(130), entry(130)])).rejects.toMatchObject({ type: 'ValidationException', message: expect.stringContaining('over the limit') });
    await expect(bus.putEvents([entry(120), entry(120)])).resolves.toMatchObject({ FailedEntryCount: 0 });
  });

  it('loses no event when the relay dies after publishing but before its checkpoint is saved', async () => {
    const jobIds: string[] = [];
    for (let i = 0; i < 30; i++) jobIds.push((await service().submit(actor, JobSpecSchema.parse({ command: `echo ${i}` }), undefined, 'c')).job.jobId);
    const file = join(mkdtempSync(join(tmpdir(), 'ff-ckpt-')), 'outbox.json');
    const durable = fileCheckpointStore(file);
    // The first run "dies" right after publishing: no checkpoint it tries to save ever reaches the disk.
    const dying: CheckpointStore = { load: (arn) => durable.load(arn), save: async () => { throw new Error('killed'); } };
    const first = startStreamPoller({ streamsClient: streams(), streamArn, handler: relay as never, checkpointStore: dying, onFailure: async () => {}, onError: () => {} });
    await waitFor('the first run to publish all 30 events', () => bus.published >= 30);
    await first.stop();
    const publishedByFirstRun = bus.published;

    const second = startStreamPoller({ streamsClient: streams(), streamArn, handler: relay as never, checkpointStore: durable, onFailure: async () => {}, onError: () => {} });
    stops.push(() => second.stop());
    await waitFor('the restarted relay to publish again', () => bus.published >= publishedByFirstRun + 30);

    await waitFor('every job to have its JobQueued event delivered', () => jobIds.every((id) => arrivedFor(id) === 1));
    expect(jobIds.map(arrivedFor)).toEqual(jobIds.map(() => 1));
    await second.stop();
  });

  it('sends a poison outbox record to the failure queue after bounded retries while the records behind it flow', async () => {
    const before = (await service().submit(actor, JobSpecSchema.parse({ command: 'before' }), undefined, 'c')).job.jobId;
    await tables.documentClient.send(new PutCommand({ TableName: tables.tableNames.outbox, Item: { subject: 'poison', eventId: '01ZZZZZZZZZZZZZZZZZZZZZZZZ', envelope: '{"not":"an event"}' } }));
    const after = (await service().submit(actor, JobSpecSchema.parse({ command: 'after' }), undefined, 'c')).job.jobId;
    const failed: string[] = [];
    let attempts = 0;
    const counting = async (event: DynamoDBStreamEvent) => {
      if (event.Records.some((r) => r.dynamodb?.Keys?.eventId?.S === '01ZZZZZZZZZZZZZZZZZZZZZZZZ')) attempts++;
      return relay(event);
    };
    const poller = startStreamPoller({
      streamsClient: streams(), streamArn, handler: counting as never, maximumRetryAttempts: 2,
      checkpointStore: fileCheckpointStore(join(mkdtempSync(join(tmpdir(), 'ff-ckpt-')), 'outbox.json')),
      onFailure: async (records) => {
        failed.push(...records.map((r) => r.dynamodb!.Keys!.eventId!.S!));
        await sqs.client.send(new SendMessageCommand({ QueueUrl: failureUrl, MessageBody: JSON.stringify(records) }));
      },
      onError: () => {},
    });
    stops.push(() => poller.stop());

    await waitFor('the jobs around the poison record to be delivered', () => arrivedFor(before) === 1 && arrivedFor(after) === 1);
    await waitFor('the poison record to reach the failure queue', () => failed.length > 0);
    expect(failed).toEqual(['01ZZZZZZZZZZZZZZZZZZZZZZZZ']);
    expect(attempts).toBeLessThanOrEqual(12);
    const { Messages = [] } = await sqs.client.send(new ReceiveMessageCommand({ QueueUrl: failureUrl, WaitTimeSeconds: 1 }));
    expect(Messages).toHaveLength(1);
    expect(Messages[0]!.Body).toContain('01ZZZZZZZZZZZZZZZZZZZZZZZZ');
  });

  it('replays what the relay gave up on: from its position in the stream, once, and leaves poison for a person', async () => {
    // Only this test's relays run from here on (the earlier ones would publish the new event themselves).
    for (const stop of stops.splice(1)) await stop();
    await tables.documentClient.send(new PutCommand({ TableName: tables.tableNames.outbox, Item: { subject: 'poison', eventId: '01ZZZZZZZZZZZZZZZZZZZZZZZY', envelope: 'not json' } }));
    const jobId = (await service().submit(actor, JobSpecSchema.parse({ command: 'replay me' }), undefined, 'c')).job.jobId;
    const broken = brokenRelay({ streamArn, error: 'EventBridge is down', maximumRetryAttempts: 1, mine: (r) => r.dynamodb?.NewImage?.subject?.S === jobId });
    stops.push(() => broken.poller.stop());
    await waitFor('the broken relay to discard the batch with the new event', broken.discardedMine);
    await broken.poller.stop();
    expect(arrivedFor(jobId)).toBe(0);

    const report = await replay();

    expect(report).toMatchObject({ expired: 0 });
    expect(report.republished).toBeGreaterThan(0);
    expect(report.stillFailing).toEqual([]);
    // The poison row written before the job is in a discarded batch: reported, and its batch kept.
    expect(report.poison.length).toBeGreaterThan(0);
    await waitFor('the replayed event to be delivered', () => arrivedFor(jobId) === 1);
    // Run again: what was replayed is gone from the queue; what stays is what needs a person.
    const again = await replay();
    expect(again.poison).toEqual(report.poison);
    expect(arrivedFor(jobId)).toBe(1);
  });

  it('replays a jobs-stream batch the relay gave up on: its events appended to the outbox, then published', async () => {
    const store = new DynamoJobStore(tables.documentClient, tables.tableNames);
    const jobId = (await service().submit(actor, JobSpecSchema.parse({ command: 'start me' }), undefined, 'c')).job.jobId;
    const dispatched = await moveJob(store, jobId, ['DISPATCHED']);
    const time = new Date().toISOString();
    const running = { ...dispatched, status: 'RUNNING' as const, version: dispatched.version + 1, updatedAt: time };
    const event = jobEvent('JobRunning', running, 'DISPATCHED', { workerId: 'w1' }, { time, correlationId: 'c' });
    await store.commit({ job: running, expected: { status: 'DISPATCHED', version: dispatched.version }, event, statusMove: { from: 'DISPATCHED', to: 'RUNNING', priority: running.priority } });
    const { Table } = await tables.client.send(new DescribeTableCommand({ TableName: tables.tableNames.jobs }));
    const broken = brokenRelay({
      streamArn: Table!.LatestStreamArn!, error: 'DynamoDB is down', maximumRetryAttempts: 0,
      filter: compilePattern(JOB_EVENT_STREAM_FILTER), mine: (r) => r.dynamodb?.Keys?.jobId?.S === jobId,
    });
    await waitFor('the broken relay to discard the job write that carries the event', broken.discardedMine);
    await broken.poller.stop();
    const outboxRowOf = () => tables.documentClient.send(new GetCommand({ TableName: tables.tableNames.outbox, Key: { subject: jobId, eventId: event.id }, ConsistentRead: true }));
    expect((await outboxRowOf()).Item).toBeUndefined();

    const published: string[] = [];
    const detach = bus.onPublished((entry) => published.push((entry.detail as { id: string }).id));
    const report = await replay();
    detach();

    expect(report.stillFailing).toEqual([]);
    expect((await outboxRowOf()).Item).toEqual(outboxRow(event, true));
    expect(published.filter((id) => id === event.id)).toHaveLength(1);
  });
});
