import { EventEmitter, once, setMaxListeners } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type Message,
  type MessageAttributeValue,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord, SQSRecordAttributes } from 'aws-lambda';
import { SQS_BATCH_MAX } from '../functions/declarations/queues.ts';
import { lambdaContext } from './lambda.ts';

/**
 * A consumer Lambda handler as the event source mapping invokes it (promise style; callbacks are not emulated).
 * Returning nothing means every message succeeded.
 */
export type SqsBatchHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void>;

export type PollerPhase = 'setup' | 'receive' | 'handler' | 'delete' | 'release';

export interface PollerErrorInfo {
  phase: PollerPhase;
  queueUrl: string;
  /** The batch concerned, when there is one. */
  messageIds?: string[];
}

export interface SqsPollerOptions {
  client: SQSClient;
  queueUrl: string;
  /** The record's eventSourceARN; looked up with GetQueueAttributes when omitted. */
  queueArn?: string;
  handler: SqsBatchHandler;
  /** Messages per invocation: 1–10, or up to 10,000 with a batching window of 1 s or more (Lambda's rule). */
  batchSize: number;
  /**
   * Lambda's MaximumBatchingWindowInSeconds: after the first message, keep gathering until the batch is full or the
   * window has passed. Default 0: each receive is a batch.
   */
  maxBatchingWindowSeconds?: number;
  /**
   * Long-poll wait, 1–20 s. Lambda waits 20 (LAMBDA_WAIT_TIME_SECONDS). Default 1, so that a stop() that waits out its receives returns
   * quickly; the local runtime's pollers wait 20 s and abandon their receives at stop (see abandonReceives).
   */
  waitTimeSeconds?: number;
  /**
   * Batches in flight at once under a backlog (Lambda runs several per queue, so handlers must tolerate overlap); an
   * idle queue has one receive in flight. Default 2.
   */
  concurrency?: number;
  functionName?: string;
  /** What context.getRemainingTimeInMillis counts down from; nothing is killed when it runs out. Default 30. */
  functionTimeoutSeconds?: number;
  /** Handler failures and SDK errors land here; the poller itself never throws or rejects. */
  onError: (error: unknown, info: PollerErrorInfo) => void;
}

export interface SqsPollerStopOptions {
  /**
   * End the receives in flight at once instead of letting their long polls run out (up to `waitTimeSeconds`). A
   * message SQS handed to an abandoned receive stays hidden until its visibility timeout, so this is for a queue that
   * ends with the caller: the local runtime's, which fauxqs keeps in memory. Batches being handled still finish.
   */
  abandonReceives?: boolean;
}

export interface SqsPoller {
  /**
   * Stops receiving, releases messages that arrive after the call, and resolves once in-flight batches are done.
   * Called again, it returns the first call's promise (and keeps the first call's options).
   */
  stop(options?: SqsPollerStopOptions): Promise<void>;
}

/** The handler's answer broke the partial-batch-response contract, so Lambda would fail the whole batch. */
export class InvalidBatchResponseError extends Error {
  override name = 'InvalidBatchResponseError';
}

/** What Lambda's SQS event source mapping waits on each receive, the longest SQS allows. */
export const LAMBDA_WAIT_TIME_SECONDS = 20;

const BACKOFF_BASE_MS = 100;
const BACKOFF_MAX_MS = 5_000;
/** After stop(), how long a receive may run past its long-poll wait before it is abandoned (a hung server). */
const RECEIVE_GRACE_MS = 2_000;

/**
 * Emulates the Lambda SQS event source mapping with ReportBatchItemFailures: receive a batch, invoke the handler with
 * a Lambda-shaped SQSEvent, delete what succeeded. Failed messages are not touched: they reappear after the
 * visibility timeout and SQS moves them to the DLQ after maxReceiveCount receives, as in AWS.
 */
export function startSqsPoller(options: SqsPollerOptions): SqsPoller {
  const { client, queueUrl, handler, batchSize } = options;
  const waitTimeSeconds = options.waitTimeSeconds ?? 1;
  const concurrency = options.concurrency ?? 2;
  const windowMs = (options.maxBatchingWindowSeconds ?? 0) * 1000;
  // Lambda's rule: over 10 messages a batch takes more than one receive, so it needs a window of 1 s at least.
  if (batchSize > SQS_BATCH_MAX && windowMs < 1000) throw new RangeError(`batchSize ${batchSize} is over ${SQS_BATCH_MAX}: it needs maxBatchingWindowSeconds of 1 or more`);
  checkInteger('batchSize', batchSize, 1, 10_000);
  // Lambda's own bounds for the window.
  checkInteger('maxBatchingWindowSeconds', options.maxBatchingWindowSeconds ?? 0, 0, 300);
  // WaitTimeSeconds 0 would turn an idle queue into a busy loop of empty receives.
  checkInteger('waitTimeSeconds', waitTimeSeconds, 1, 20);
  checkInteger('concurrency', concurrency, 1, 100);

  const stopping = new AbortController(); // wakes backoff sleeps at once
  const abandon = new AbortController(); // cancels receives that outlive their wait (see RECEIVE_GRACE_MS)
  const report = (error: unknown, info: Omit<PollerErrorInfo, 'queueUrl'>) => {
    try {
      options.onError(error, { ...info, queueUrl });
    } catch {
      // A failing error callback must not stop the poller; there is nowhere left to report to.
    }
  };

  let arn: Promise<string> | undefined = options.queueArn ? Promise.resolve(options.queueArn) : undefined;
  const queueArn = () =>
    (arn ??= client
      .send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))
      .then(({ Attributes }) => Attributes?.QueueArn ?? Promise.reject(new Error(`no QueueArn for ${queueUrl}`)))
      .catch((error: unknown) => {
        arn = undefined; // look it up again on the next turn
        throw error;
      }));

  /** Bounded exponential backoff after SDK errors, so a dead server costs a few requests a second, not a spin. */
  const backOff = (failures: number) =>
    delay(Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (failures - 1)), undefined, { signal: stopping.signal }).catch(() => {});

  // Lambda scales an event source mapping's pollers with the backlog. Here one loop always polls; the others join
  // when a receive comes back with messages and park again after an empty one, so an idle queue costs one long poll
  // at a time instead of `concurrency` (an idle `npm start` made about 40 receives a second).
  const backlog = new EventEmitter().setMaxListeners(concurrency);
  // Each loop waits on `stopping` once at a time (a parked wait or a backoff): up to `concurrency` listeners, no leak.
  setMaxListeners(Math.max(10, concurrency), stopping.signal);

  const pollLoop = async (helper: boolean) => {
    let failures = 0;
    let idle = helper;
    while (!stopping.signal.aborted) {
      if (idle) await once(backlog, 'seen', { signal: stopping.signal }).catch(() => {});
      if (stopping.signal.aborted) break;
      let sourceArn: string;
      let messages: Message[];
      try {
        sourceArn = await queueArn();
      } catch (error) {
        report(error, { phase: 'setup' });
        await backOff(++failures);
        continue;
      }
      try {
        const out = await client.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: Math.min(batchSize, SQS_BATCH_MAX),
            WaitTimeSeconds: waitTimeSeconds,
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
          { abortSignal: abandon.signal },
        );
        messages = out.Messages ?? [];
      } catch (error) {
        if (abandon.signal.aborted) break;
        report(error, { phase: 'receive' });
        await backOff(++failures);
        continue;
      }
      failures = 0;
      idle = helper && messages.length === 0;
      if (messages.length === 0) continue;
      backlog.emit('seen');
      if (messages.length < batchSize && windowMs > 0) messages = await fillBatch(messages, Date.now() + windowMs);
      if (stopping.signal.aborted) {
        await release(messages);
        break;
      }
      if (!(await runBatch(messages, sourceArn))) await backOff(++failures);
    }
  };

  /** Receives more until the batch is full or the window closes (or a receive fails: the batch goes as it is). */
  const fillBatch = async (messages: Message[], closesAt: number): Promise<Message[]> => {
    while (messages.length < batchSize && Date.now() < closesAt && !stopping.signal.aborted) {
      try {
        const out = await client.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: Math.min(batchSize - messages.length, SQS_BATCH_MAX),
            WaitTimeSeconds: Math.min(waitTimeSeconds, Math.max(1, Math.ceil((closesAt - Date.now()) / 1000))),
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
          { abortSignal: abandon.signal },
        );
        messages = [...messages, ...(out.Messages ?? [])];
      } catch (error) {
        if (!abandon.signal.aborted) report(error, { phase: 'receive' });
        break;
      }
    }
    return messages;
  };

  /** Invokes the handler once and deletes what it did not report as failed. False when SQS refused the delete. */
  const runBatch = async (messages: Message[], sourceArn: string): Promise<boolean> => {
    const event: SQSEvent = { Records: messages.map((message) => toRecord(message, sourceArn)) };
    const messageIds = event.Records.map((record) => record.messageId);
    let failed: Set<string>;
    try {
      // The invoke boundary is JSON in both directions, as in Lambda: the handler gets its own copy of the event,
      // and a response that does not survive serialisation is judged by what does.
      const response = await handler(JSON.parse(JSON.stringify(event)) as SQSEvent, lambdaContext(options.functionName ?? 'forgeflow-sqs-consumer-local', (options.functionTimeoutSeconds ?? 30) * 1000));
      failed = failedMessageIds(response === undefined ? null : JSON.parse(JSON.stringify(response)), messageIds);
    } catch (error) {
      // A thrown error fails the whole batch: nothing is deleted and every message comes back.
      report(error, { phase: 'handler', messageIds });
      return true;
    }
    const done = messages.filter((message) => !failed.has(message.MessageId ?? ''));
    if (done.length === 0) return true;
    let refused = false;
    for (const chunk of chunks(done)) {
      try {
        const Entries = chunk.map((message, i) => ({ Id: `m${i}`, ReceiptHandle: message.ReceiptHandle }));
        const out = await client.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries }));
        if (out.Failed?.length) {
          const ids = out.Failed.map((entry) => chunk[Number(entry.Id?.slice(1))]?.MessageId ?? String(entry.Id));
          const reasons = out.Failed.map((entry) => `${entry.Code}: ${entry.Message}`).join('; ');
          const error = new Error(`DeleteMessageBatch failed for ${ids.length} message(s), which will be redelivered: ${reasons}`);
          report(error, { phase: 'delete', messageIds: ids });
        }
      } catch (error) {
        // Undeleted messages come back after the visibility timeout: a duplicate delivery, never a loss.
        report(error, { phase: 'delete', messageIds: chunk.map((message) => message.MessageId ?? '') });
        refused = true;
      }
    }
    return !refused;
  };

  /** Gives back messages that arrived after stop(), so the next consumer need not wait out their visibility timeout. */
  const release = async (messages: Message[]) => {
    for (const chunk of chunks(messages)) {
      try {
        const Entries = chunk.map((message, i) => ({ Id: `m${i}`, ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: 0 }));
        await client.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: queueUrl, Entries }));
      } catch (error) {
        report(error, { phase: 'release', messageIds: chunk.map((message) => message.MessageId ?? '') });
      }
    }
  };

  // pollLoop handles its own errors; the catch is a last guard so that a bug here can never become an unhandled
  // rejection that takes the whole local runtime down.
  const loops = Array.from({ length: concurrency }, (_, i) => pollLoop(i > 0).catch((error: unknown) => report(error, { phase: 'receive' })));
  let stopped: Promise<void> | undefined;
  return {
    stop: (stopOptions = {}) =>
      (stopped ??= (async () => {
        stopping.abort();
        if (stopOptions.abandonReceives) abandon.abort();
        const timer = setTimeout(() => abandon.abort(), waitTimeSeconds * 1000 + RECEIVE_GRACE_MS);
        try {
          await Promise.all(loops);
        } finally {
          clearTimeout(timer);
        }
      })()),
  };
}

/**
 * Which messages to keep, following Lambda's "success and failure conditions" for partial batch responses: no
 * response, an empty or null list is full success; anything that is not a list of known, non-empty message ids
 * fails the whole batch (throws).
 */
export function failedMessageIds(response: unknown, messageIds: readonly string[]): Set<string> {
  if (response === null) return new Set();
  if (typeof response !== 'object' || Array.isArray(response)) {
    throw new InvalidBatchResponseError(`handler returned ${JSON.stringify(response)}, not an SQSBatchResponse`);
  }
  const list = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (list === undefined || list === null) return new Set();
  if (!Array.isArray(list)) throw new InvalidBatchResponseError('batchItemFailures is not a list');
  const known = new Set(messageIds);
  const failed = new Set<string>();
  for (const item of list as unknown[]) {
    const id = typeof item === 'object' && item !== null ? (item as { itemIdentifier?: unknown }).itemIdentifier : undefined;
    if (typeof id !== 'string' || !known.has(id)) {
      throw new InvalidBatchResponseError(`batchItemFailures names ${JSON.stringify(item)}, which is not a message id of this batch`);
    }
    failed.add(id);
  }
  return failed;
}

/** One record as Lambda delivers it: camelCase keys, system attributes under `attributes`, binary as base64. */
export function toRecord(message: Message, eventSourceARN: string): SQSRecord {
  const attributes = (message.Attributes ?? {}) as Partial<SQSRecordAttributes>;
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ...attributes,
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
      SentTimestamp: attributes.SentTimestamp ?? '',
      SenderId: attributes.SenderId ?? '',
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? '',
    },
    messageAttributes: toMessageAttributes(message.MessageAttributes ?? {}),
    md5OfBody: message.MD5OfBody ?? '',
    ...(message.MD5OfMessageAttributes ? { md5OfMessageAttributes: message.MD5OfMessageAttributes } : {}),
    eventSource: 'aws:sqs',
    eventSourceARN,
    // arn:aws:sqs:<region>:<account>:<name>
    awsRegion: eventSourceARN.split(':')[3] ?? '',
  };
}

function toMessageAttributes(attributes: Record<string, MessageAttributeValue>): SQSMessageAttributes {
  const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
  return Object.fromEntries(
    Object.entries(attributes).map(([name, value]) => [
      name,
      {
        ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
        ...(value.BinaryValue !== undefined ? { binaryValue: base64(value.BinaryValue) } : {}),
        // Lambda always sends these reserved lists, empty.
        stringListValues: value.StringListValues ?? [],
        binaryListValues: (value.BinaryListValues ?? []).map(base64),
        dataType: value.DataType ?? 'String',
      },
    ]),
  );
}


function chunks<T>(items: readonly T[]): T[][] {
  return Array.from({ length: Math.ceil(items.length / SQS_BATCH_MAX) }, (_, i) => items.slice(i * SQS_BATCH_MAX, (i + 1) * SQS_BATCH_MAX));
}

function checkInteger(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
}

