import { waitFor } from '../support/wait.ts';
import { createHash, randomUUID } from 'node:crypto';
import {
  BatchRequestTooLong,
  ChangeMessageVisibilityCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
  type MessageAttributeValue,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { QueueDefinition } from '../../functions/declarations/queues.ts';
import { failedMessageIds, InvalidBatchResponseError, startSqsPoller, type PollerErrorInfo, type SqsBatchHandler, type SqsPoller, type SqsPollerOptions } from '../../local/sqs-poller.ts';
import { LOCAL_SQS_MESSAGE_LIMIT_BYTES, localSqsClientConfig, startLocalSqs, type LocalSqs } from '../../local/sqs.ts';
import { LONG_POLL } from '../../local/wire-operations.ts';

let sqs: LocalSqs;
let client: SQSClient;
const pollers: SqsPoller[] = [];

beforeAll(async () => {
  sqs = await startLocalSqs();
  client = sqs.client;
});
afterEach(() => Promise.all(pollers.splice(0).map((poller) => poller.stop())));
afterAll(() => sqs?.stop());

/** A declared-queue shape with short timeouts, so redeliveries take a second rather than the production 30 s. */
function testQueue(overrides: Partial<QueueDefinition> = {}): QueueDefinition {
  const name = `test-${randomUUID().slice(0, 8)}`;
  const dlq = { id: `${name}Dlq`, name: `${name}-dlq`, envVar: 'TEST_DLQ_URL', retentionSeconds: 7200 };
  return { id: name, name, envVar: 'TEST_QUEUE_URL', visibilityTimeoutSeconds: 1, maxReceiveCount: 5, retentionSeconds: 3600, dlq, batchSize: 10, ...overrides };
}

/** Handler invocations in order. Tests wait on `until`, which the handler wakes: no sleeping and polling. */
class Invocations {
  readonly seen: Array<{ event: SQSEvent; context: Context }> = [];
  private readonly waiters: Array<() => void> = [];
  record(event: SQSEvent, context: Context): void {
    this.seen.push({ event, context });
    this.waiters.splice(0).forEach((wake) => wake());
  }
  get count(): number {
    return this.seen.length;
  }
  async until(condition: () => boolean): Promise<void> {
    while (!condition()) await new Promise<void>((wake) => this.waiters.push(wake));
  }
  async nth(n: number): Promise<{ event: SQSEvent; context: Context }> {
    await this.until(() => this.seen.length > n);
    return this.seen[n]!;
  }
  records(): SQSRecord[] {
    return this.seen.flatMap(({ event }) => event.Records);
  }
  /** A handler that records each call, then answers with `respond(event, call number from 1)`. */
  handler(respond: (event: SQSEvent, call: number) => SQSBatchResponse | void | Promise<void> = () => {}): SqsBatchHandler {
    return async (event, context) => {
      this.record(event, context);
      return respond(event, this.count);
    };
  }
}

/**
 * Resolves once every id came back with the given receive count. Messages received together can turn visible again
 * a millisecond apart, so a redelivery may be split over two invocations: wait for the ids, not for one event.
 */
async function redelivered(calls: Invocations, messageIds: string[], receiveCount: string): Promise<void> {
  const back = () => new Set(calls.records().filter((r) => r.attributes.ApproximateReceiveCount === receiveCount).map((r) => r.messageId));
  await calls.until(() => messageIds.every((id) => back().has(id)));
}

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

function poll(options: Omit<SqsPollerOptions, 'client' | 'onError' | 'batchSize'> & Partial<SqsPollerOptions>) {
  const errors: Array<{ error: unknown; info: PollerErrorInfo }> = [];
  const poller = startSqsPoller({ client, batchSize: 10, concurrency: 1, onError: (error, info) => errors.push({ error, info }), ...options });
  pollers.push(poller);
  return { poller, errors };
}

/** Sends one message per body, in order; returns their message ids. */
async function send(url: string, ...bodies: string[]): Promise<string[]> {
  const sent: string[] = [];
  for (const MessageBody of bodies) sent.push((await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody }))).MessageId!);
  return sent;
}

/** One ReceiveMessage; a wait > 0 is a long poll that fauxqs ends as soon as a message turns visible. */
async function receiveOne(url: string, WaitTimeSeconds = 0) {
  const { Messages } = await client.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds, MessageSystemAttributeNames: ['All'] }));
  return Messages?.[0];
}

async function attributes(url: string): Promise<Record<string, string>> {
  return (await client.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }))).Attributes ?? {};
}

async function depth(url: string): Promise<{ visible: number; inFlight: number }> {
  const { ApproximateNumberOfMessages: visible, ApproximateNumberOfMessagesNotVisible: inFlight } = await attributes(url);
  return { visible: Number(visible), inFlight: Number(inFlight) };
}

const ids = (event: SQSEvent) => event.Records.map((record) => record.messageId).sort();

describe('startLocalSqs', () => {
  it('creates the DLQ and the queue with the attributes the CDK app uses, idempotently and convergently', async () => {
    const def = testQueue({ visibilityTimeoutSeconds: 45, maxReceiveCount: 3 });
    const first = await sqs.ensureQueue(def);
    expect(await sqs.ensureQueue(def)).toEqual(first);
    const queue = await attributes(first.url);
    expect(queue).toMatchObject({ VisibilityTimeout: '45', MessageRetentionPeriod: '3600', QueueArn: first.arn });
    expect(JSON.parse(queue.RedrivePolicy!)).toEqual({ deadLetterTargetArn: first.dlqArn, maxReceiveCount: 3 });
    const dlq = await attributes(first.dlqUrl);
    expect([dlq.MessageRetentionPeriod, dlq.RedrivePolicy, dlq.QueueArn]).toEqual(['7200', undefined, first.dlqArn]);
    // A changed declaration is applied rather than failing with QueueNameExists.
    await sqs.ensureQueue({ ...def, visibilityTimeoutSeconds: 7 });
    expect((await attributes(first.url)).VisibilityTimeout).toBe('7');
  });

  it('creates a plain queue without redrive', async () => {
    const name = `plain-${randomUUID().slice(0, 8)}`;
    const queue = await sqs.ensurePlainQueue(name, { retentionSeconds: 600 });
    expect(await sqs.ensurePlainQueue(name, { retentionSeconds: 600 })).toEqual(queue);
    const { MessageRetentionPeriod, RedrivePolicy } = await attributes(queue.url);
    expect([MessageRetentionPeriod, RedrivePolicy]).toEqual(['600', undefined]);
  });
});

describe('fauxqs behaviours the poller relies on', () => {
  it('hides a received message for the visibility timeout, then delivers it again', async () => {
    const { url } = await sqs.ensureQueue(testQueue({ visibilityTimeoutSeconds: 1 }));
    const [id] = await send(url, 'vt');
    const start = Date.now();
    expect((await receiveOne(url))?.MessageId).toBe(id);
    expect(await receiveOne(url)).toBeUndefined();
    const again = await receiveOne(url, 5);
    expect(Date.now() - start).toBeGreaterThanOrEqual(1000);
    expect([again?.MessageId, again?.Attributes?.ApproximateReceiveCount]).toEqual([id, '2']);
  });

  it('honours ChangeMessageVisibility: 0 releases at once, a longer timeout extends past the original one', async () => {
    const { url } = await sqs.ensureQueue(testQueue({ visibilityTimeoutSeconds: 1 }));
    const [id] = await send(url, 'cmv');
    const change = (ReceiptHandle: string | undefined, VisibilityTimeout: number) =>
      client.send(new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle, VisibilityTimeout }));
    await change((await receiveOne(url))?.ReceiptHandle, 0);
    const released = await receiveOne(url);
    expect(released?.MessageId).toBe(id);

    const extendedAt = Date.now();
    await change(released?.ReceiptHandle, 2);
    expect(await receiveOne(url, 1)).toBeUndefined(); // waits past the queue's own 1 s timeout
    const after = await receiveOne(url, 5);
    expect(Date.now() - extendedAt).toBeGreaterThanOrEqual(2000);
    expect(after?.MessageId).toBe(id);
  });
});

describe('message size limit (256 KiB of body and attributes)', () => {
  const LIMIT = LOCAL_SQS_MESSAGE_LIMIT_BYTES;
  const tooLong = { name: 'InvalidParameterValue', message: `One or more parameters are invalid. Reason: Message must be shorter than ${LIMIT} bytes.`, $metadata: { httpStatusCode: 400 } };
  const sendWith = (QueueUrl: string, MessageBody: string, MessageAttributes?: Record<string, MessageAttributeValue>) =>
    client.send(new SendMessageCommand({ QueueUrl, MessageBody, MessageAttributes }));
  // 'tenant' + 'String' + 't-1': 15 bytes.
  const tenant = { tenant: { DataType: 'String', StringValue: 't-1' } };
  // 'blob' + 'Binary' + 3 bytes, counted decoded rather than as the base64 the request carries.
  const blob = { blob: { DataType: 'Binary', BinaryValue: new Uint8Array([1, 2, 3]) } };

  it('accepts a message of exactly the limit, attributes included, and refuses one byte more with AWS’s error', async () => {
    const { url } = await sqs.ensureQueue(testQueue());
    await expect(sendWith(url, 'x'.repeat(LIMIT - 15), tenant)).resolves.toMatchObject({ MessageId: expect.any(String) });
    await expect(sendWith(url, 'x'.repeat(LIMIT - 13), blob)).resolves.toMatchObject({ MessageId: expect.any(String) });

    await expect(sendWith(url, 'x'.repeat(LIMIT - 14), tenant)).rejects.toMatchObject(tooLong);
    await expect(sendWith(url, 'x'.repeat(LIMIT - 12), blob)).rejects.toMatchObject(tooLong);
    await expect(sendWith(url, 'x'.repeat(LIMIT + 1))).rejects.toMatchObject(tooLong);
    expect(await depth(url)).toEqual({ visible: 2, inFlight: 0 });
  });

  it('counts UTF-8 bytes, not characters', async () => {
    const { url } = await sqs.ensureQueue(testQueue());
    // 2 bytes per character: fewer characters than the limit, more bytes.
    await expect(sendWith(url, 'é'.repeat(LIMIT / 2 + 1))).rejects.toMatchObject(tooLong);
    await expect(sendWith(url, 'é'.repeat(LIMIT / 2))).resolves.toBeDefined();
  });

  it('refuses a batch whose entries add up to more than the limit, whole, with BatchRequestTooLong', async () => {
    const { url } = await sqs.ensureQueue(testQueue());
    const batch = (...sizes: number[]) => client.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: sizes.map((size, i) => ({ Id: `e${i}`, MessageBody: 'b'.repeat(size) })) }));

    const error = await batch(LIMIT / 2, LIMIT / 2 + 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BatchRequestTooLong);
    expect(error).toMatchObject({ name: 'BatchRequestTooLong', message: `Batch requests cannot be longer than ${LIMIT} bytes. You have sent ${LIMIT + 1} bytes.` });
    expect(await depth(url)).toEqual({ visible: 0, inFlight: 0 });

    const { Successful, Failed } = await batch(LIMIT / 2, LIMIT / 2);
    expect([Successful?.length, Failed ?? []]).toEqual([2, []]);
  });

  it('gives fauxqs’s own InvalidParameterValue errors the unprefixed name AWS’s have', async () => {
    const { url } = await sqs.ensureQueue(testQueue());
    await expect(client.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 11 }))).rejects.toMatchObject({ name: 'InvalidParameterValue' });
  });
});

describe('startSqsPoller', () => {
  it('delivers a batch as a Lambda SQSEvent and deletes it after success', async () => {
    const queue = await sqs.ensureQueue(testQueue({ visibilityTimeoutSeconds: 30 }));
    const sent = await send(queue.url, 'one', 'two');
    const MessageAttributes = { tenant: { DataType: 'String', StringValue: 't-1' }, blob: { DataType: 'Binary', BinaryValue: new Uint8Array([1, 2, 3]) } };
    const { MessageId } = await client.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'three', MessageAttributes }));
    sent.push(MessageId!);
    const calls = new Invocations();
    const { poller, errors } = poll({ queueUrl: queue.url, functionName: 'history-consumer', handler: calls.handler() });

    const { event, context } = await calls.nth(0);
    expect(ids(event)).toEqual([...sent].sort());
    const three = event.Records.find((record) => record.body === 'three')!;
    const epochMs = expect.stringMatching(/^\d{13}$/);
    expect(three).toEqual({
      messageId: MessageId,
      receiptHandle: expect.any(String),
      body: 'three',
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: epochMs, SenderId: expect.any(String), ApproximateFirstReceiveTimestamp: epochMs },
      messageAttributes: {
        tenant: { stringValue: 't-1', stringListValues: [], binaryListValues: [], dataType: 'String' },
        blob: { binaryValue: Buffer.from([1, 2, 3]).toString('base64'), stringListValues: [], binaryListValues: [], dataType: 'Binary' },
      },
      md5OfBody: createHash('md5').update('three').digest('hex'),
      md5OfMessageAttributes: expect.stringMatching(/^[0-9a-f]{32}$/),
      eventSource: 'aws:sqs',
      eventSourceARN: queue.arn,
      awsRegion: 'us-east-1',
    });
    expect(context).toMatchObject({ functionName: 'history-consumer', awsRequestId: expect.any(String) });
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(0);

    await poller.stop(); // waits for the delete that follows the handler
    expect(await depth(queue.url)).toEqual({ visible: 0, inFlight: 0 });
    expect(errors).toEqual([]);
  });

  it('keeps one receive in flight while the queue is idle, and runs `concurrency` batches at once under a backlog', async () => {
    const queue = await sqs.ensureQueue(testQueue({ visibilityTimeoutSeconds: 30 }));
    // Counts the receives the poller has in flight at once, on a client of its own.
    const counted = new SQSClient(localSqsClientConfig(sqs.endpoint));
    let inFlight = 0;
    let mostInFlight = 0;
    let receives = 0;
    counted.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'ReceiveMessageCommand') return next(args);
        mostInFlight = Math.max(mostInFlight, ++inFlight);
        try {
          return await next(args);
        } finally {
          inFlight--;
          receives++;
        }
      },
      { step: 'initialize' },
    );
    const release = deferred();
    let running = 0;
    let mostRunning = 0;
    const calls = new Invocations();
    poll({ client: counted, queueUrl: queue.url, batchSize: 1, concurrency: 4, handler: async (event, context) => {
      calls.record(event, context);
      mostRunning = Math.max(mostRunning, ++running);
      await release.promise;
      running--;
    } });

    await waitFor('two empty long polls', async () => receives >= 2);
    expect(mostInFlight).toBe(1);

    await send(queue.url, ...Array.from({ length: 12 }, (_, i) => `m${i}`));
    await calls.until(() => calls.count === 4);
    expect(mostRunning).toBe(4);
    release.resolve();
    await calls.until(() => calls.count === 12);
    expect(mostRunning).toBe(4);
    counted.destroy();
  });

  it('with a batching window, gathers what arrives after the first message into the same invocation', async () => {
    const queue = await sqs.ensureQueue(testQueue({ visibilityTimeoutSeconds: 30 }));
    const calls = new Invocations();
    poll({ queueUrl: queue.url, handler: calls.handler(), maxBatchingWindowSeconds: 2 });
    const [first] = await send(queue.url, 'first');
    // The poller holds the first message while its window is open: it is in flight, and no invocation came yet.
    await waitFor('the first message received', async () => (await depth(queue.url)).inFlight === 1);
    expect(calls.seen).toHaveLength(0);
    const later = await send(queue.url, 'second', 'third');
    const { event } = await calls.nth(0);
    expect(ids(event)).toEqual([first!, ...later].sort());
  });

  it('with a window, gathers more than ten messages into one invocation and deletes them ten a call', async () => {
    const queue = await sqs.ensureQueue(testQueue({ visibilityTimeoutSeconds: 30 }));
    const sent = await send(queue.url, ...Array.from({ length: 25 }, (_, i) => `m${i}`));
    const calls = new Invocations();
    const { poller, errors } = poll({ queueUrl: queue.url, handler: calls.handler(), batchSize: 25, maxBatchingWindowSeconds: 2 });
    const { event } = await calls.nth(0);
    expect(ids(event)).toEqual([...sent].sort());
    await poller.stop();
    expect(await depth(queue.url)).toEqual({ visible: 0, inFlight: 0 });
    expect(errors).toEqual([]);
  });

  it('deletes the successes of a partial batch and redelivers only the reported failure', async () => {
    const queue = await sqs.ensureQueue(testQueue({ visibilityTimeoutSeconds: 1 }));
    const sent = await send(queue.url, 'a', 'b', 'c');
    const calls = new Invocations();
    const handler = calls.handler((_event, call) => ({ batchItemFailures: call === 1 ? [{ itemIdentifier: sent[1]! }] : [] }));
    const { poller, errors } = poll({ queueUrl: queue.url, handler });

    expect(ids((await calls.nth(0)).event)).toEqual([...sent].sort());
    const { event } = await calls.nth(1);
    expect(event.Records.map((record) => [record.messageId, record.attributes.ApproximateReceiveCount])).toEqual([[sent[1], '2']]);
    await poller.stop();
    expect(await depth(queue.url)).toEqual({ visible: 0, inFlight: 0 });
    expect(calls.count).toBe(2);
    expect(errors).toEqual([]);
  });

  it('lets SQS move a message that failed maxReceiveCount times to the DLQ', async () => {
    const queue = await sqs.ensureQueue(testQueue({ visibilityTimeoutSeconds: 1, maxReceiveCount: 2 }));
    const [id] = await send(queue.url, 'poison');
    const calls = new Invocations();
    poll({ queueUrl: queue.url, handler: calls.handler((event) => ({ batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })) })) });
    const dead = new Invocations();
    poll({ queueUrl: queue.dlqUrl, handler: dead.handler() });

    const { event } = await dead.nth(0);
    expect(event.Records.map((record) => [record.messageId, record.body, record.eventSourceARN])).toEqual([[id, 'poison', queue.dlqArn]]);
    expect(calls.count).toBe(2);
    expect([(await calls.nth(0)).event, (await calls.nth(1)).event].map((e) => e.Records[0]!.attributes.ApproximateReceiveCount)).toEqual(['1', '2']);
  });

  it('redelivers the whole batch when the handler throws, and reports the error', async () => {
    const queue = await sqs.ensureQueue(testQueue({ visibilityTimeoutSeconds: 1 }));
    const sent = await send(queue.url, 'x', 'y');
    const calls = new Invocations();
    const handler = calls.handler(async (_event, call) => {
      if (call === 1) throw new Error('downstream unavailable');
    });
    const { poller, errors } = poll({ queueUrl: queue.url, handler });

    expect(ids((await calls.nth(0)).event)).toEqual([...sent].sort());
    await redelivered(calls, sent, '2');
    await poller.stop();
    expect(await depth(queue.url)).toEqual({ visible: 0, inFlight: 0 });
    expect(errors).toHaveLength(1);
    expect(errors[0]!.info).toMatchObject({ phase: 'handler', queueUrl: queue.url });
    expect([...errors[0]!.info.messageIds!].sort()).toEqual([...sent].sort());
  });

  it('stop() waits for the in-flight handler and releases messages received after it was called', async () => {
    const queue = await sqs.ensureQueue(testQueue({ visibilityTimeoutSeconds: 30 }));
    const other = await sqs.ensurePlainQueue(`side-${randomUUID().slice(0, 8)}`);
    const [entered, stopCalled] = [deferred(), deferred()];
    let finished = false;
    const calls = new Invocations();
    // Two loops with a 20 s long poll: while one runs the handler, the other is certainly still waiting in fauxqs.
    const { poller, errors } = poll({
      queueUrl: queue.url,
      concurrency: 2,
      waitTimeSeconds: 20,
      handler: calls.handler(async () => {
        entered.resolve();
        await stopCalled.promise;
        await send(other.url, 'side effect'); // real I/O after stop() was called
        finished = true;
      }),
    });
    const [first] = await send(queue.url, 'in flight');
    await entered.promise;

    const stopping = poller.stop();
    const [late] = await send(queue.url, 'arrives during stop');
    stopCalled.resolve();
    await stopping;

    expect(finished).toBe(true);
    expect(calls.records().map((record) => record.messageId)).toEqual([first]);
    // The first message was deleted after its handler; the late one was given back, not left hidden for 30 s.
    expect(await depth(queue.url)).toEqual({ visible: 1, inFlight: 0 });
    expect((await receiveOne(queue.url))?.MessageId).toBe(late);
    expect(errors).toEqual([]);
  });

  it('stop({ abandonReceives: true }) ends a waiting long poll at once instead of waiting it out', async () => {
    const queue = await sqs.ensureQueue(testQueue());
    const longPolls = () => sqs.requestCounts.get(LONG_POLL) ?? 0;
    const before = longPolls();
    const { poller, errors } = poll({ queueUrl: queue.url, waitTimeSeconds: 20, handler: async () => {} });
    await waitFor('a long poll waiting in fauxqs', () => longPolls() > before);

    const started = Date.now();
    await poller.stop({ abandonReceives: true });

    // A plain stop waits out the 20 s poll (the test above relies on it); abandoned, the poll ends at once.
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(errors).toEqual([]);
  });

  it('reports SDK errors and backs off instead of crashing or spinning', async () => {
    const [errorsSeen, start, phases] = [deferred<number>(), Date.now(), [] as string[]];
    const onError = (_error: unknown, info: PollerErrorInfo) => {
      if (phases.push(info.phase) === 6) errorsSeen.resolve(Date.now() - start);
    };
    const queueUrl = `${sqs.endpoint}/000000000000/does-not-exist`;
    const { poller } = poll({ queueUrl, queueArn: 'arn:aws:sqs:us-east-1:000000000000:does-not-exist', concurrency: 2, handler: async () => {}, onError });
    // Two loops, each backing off 100 then 200 ms before its 2nd and 3rd receives.
    expect(await errorsSeen.promise).toBeGreaterThanOrEqual(300);
    await poller.stop();
    expect(new Set(phases)).toEqual(new Set(['receive']));
  });

  it('rejects settings Lambda would not accept', () => {
    const base = { client: {} as SQSClient, queueUrl: 'u', handler: async () => {}, onError: () => {} };
    expect(() => startSqsPoller({ ...base, batchSize: 11 })).toThrow(/needs maxBatchingWindowSeconds of 1 or more/);
    expect(() => startSqsPoller({ ...base, batchSize: 10_001, maxBatchingWindowSeconds: 1 })).toThrow(RangeError);
    expect(() => startSqsPoller({ ...base, batchSize: 10, waitTimeSeconds: 0 })).toThrow(RangeError);
  });
});

describe('failedMessageIds (Lambda partial batch response rules)', () => {
  const batch = ['m1', 'm2'];
  it.each([null, {}, { batchItemFailures: [] }, { batchItemFailures: null }])('treats %j as full success', (response) => {
    expect(failedMessageIds(response, batch)).toEqual(new Set());
  });
  it('returns the reported ids', () => {
    expect(failedMessageIds({ batchItemFailures: [{ itemIdentifier: 'm2' }] }, batch)).toEqual(new Set(['m2']));
  });
  const item = (entry: object) => ({ batchItemFailures: [entry] });
  // it.each spreads an array row, so [['m1']] passes the array ['m1'].
  it.each(['ok', [['m1']], { batchItemFailures: 'm1' }, item({ itemIdentifier: '' }), item({ itemIdentifier: null }), item({ messageId: 'm1' }), item({ itemIdentifier: 'm3' })])('treats %j as a failure of the whole batch', (response) => {
    expect(() => failedMessageIds(response, batch)).toThrow(InvalidBatchResponseError);
  });
});
