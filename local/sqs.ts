import type { AddressInfo } from 'node:net';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  QueueNameExists,
  SetQueueAttributesCommand,
  SQSClient,
  type SQSClientConfig,
} from '@aws-sdk/client-sqs';
import { buildApp } from 'fauxqs';
import type { QueueDefinition } from '../functions/declarations/queues.ts';
import { patchFauxqsWaitTimer } from './sqs-wait-timer.ts';
import { wireOperation } from './wire-operations.ts';
import { withoutCallLogging } from '../functions/adapters/sdk-call-logging.ts';

/** fauxqs derives queue ARNs from the request's signing region, so every local client must agree on one. */
export const LOCAL_SQS_REGION = 'us-east-1';
/** fauxqs does not check signatures; the SDK only needs something to sign with. Not secrets. */
const LOCAL_SQS_CREDENTIALS = { accessKeyId: 'forgeflowlocal', secretAccessKey: 'forgeflowlocal' };

/**
 * What a local queue accepts: 256 KiB of body plus message attributes per SendMessage, and in all per
 * SendMessageBatch. AWS has allowed up to 1 MiB since 2025 (and fauxqs with it), but the platform budgets its messages
 * for the 256 KiB that was SQS's limit for years (docs/aws-limits.md): refusing more here keeps that budget honest.
 * Stricter than a queue created in AWS today, never looser.
 */
export const LOCAL_SQS_MESSAGE_LIMIT_BYTES = 262_144;

export interface LocalSqsOptions {
  /** Port on 127.0.0.1; omitted or 0: the OS picks a free one. */
  port?: number;
}

export interface EnsuredQueue {
  url: string;
  arn: string;
}

export interface EnsuredQueueWithDlq extends EnsuredQueue {
  dlqUrl: string;
  dlqArn: string;
}

export interface LocalSqs {
  /** http://127.0.0.1:<port>: what every SQS client must use as `endpoint`. */
  endpoint: string;
  port: number;
  /** SQS requests received, per action (ReceiveMessage, SendMessage, ...). */
  requestCounts: Map<string, number>;
  /** A client bound to this server; destroyed by stop(). */
  client: SQSClient;
  /** Creates the DLQ, then the queue with the attributes the CDK app gives it. Safe to call again. */
  ensureQueue(def: QueueDefinition): Promise<EnsuredQueueWithDlq>;
  /** A queue without redrive, e.g. the relay's on-failure destination. */
  ensurePlainQueue(name: string, options?: { retentionSeconds?: number; visibilityTimeoutSeconds?: number }): Promise<EnsuredQueue>;
  /** Stops the server; stop pollers first, or their in-flight requests fail. Safe to call more than once. */
  stop(): Promise<void>;
}

/**
 * Client settings for a local fauxqs server. fauxqs puts a host in queue URLs (sqs.<region>.localhost) that does not
 * resolve here, and the SDK would otherwise send each call to its queue URL's host: the explicit endpoint wins.
 */
export function localSqsClientConfig(endpoint: string): SQSClientConfig {
  return { endpoint, region: LOCAL_SQS_REGION, credentials: LOCAL_SQS_CREDENTIALS };
}

/**
 * Starts fauxqs in this process, on loopback only. `startFauxqs` from the package always binds 0.0.0.0, which would
 * put an unauthenticated queue server on every network the laptop joins, so we build its app and listen ourselves.
 * Listening on port 0 lets the OS pick the port at bind time: no window in which another process can take a port we
 * probed (ports.ts `freePort` needs one, which is fine for a child process but unnecessary in-process).
 */
export async function startLocalSqs(options: LocalSqsOptions = {}): Promise<LocalSqs> {
  await patchFauxqsWaitTimer();
  const app = buildApp({ logger: false });
  // Counted per action (long polls apart, wireOperation), so benchmarks can price the SQS requests a workload makes.
  const requestCounts = new Map<string, number>();
  app.addHook('preHandler', async (request) => {
    const action = wireOperation(String(request.headers['x-amz-target'] ?? ''), request.body as { WaitTimeSeconds?: unknown } | undefined);
    requestCounts.set(action, (requestCounts.get(action) ?? 0) + 1);
  });
  // Ahead of fauxqs, whose own bound is today's 1 MiB: an oversized message is refused and never enqueued.
  app.addHook('preHandler', async (request, reply) => {
    const refusal = oversizeRefusal(request.headers['x-amz-target'], request.body);
    if (!refusal) return;
    return reply
      .code(400)
      .header('content-type', 'application/x-amz-json-1.0')
      .header('x-amzn-query-error', `${refusal.queryCode};Sender`)
      .send({ __type: `com.amazonaws.sqs#${refusal.code}`, message: refusal.message });
  });
  // See QUERY_ERROR_PREFIX: fauxqs's own InvalidParameterValue errors get the name AWS's do.
  app.addHook('onSend', async (_request, reply) => {
    const queryError = reply.getHeader('x-amzn-query-error');
    if (typeof queryError === 'string' && queryError.startsWith(`${QUERY_ERROR_PREFIX}InvalidParameterValue;`)) {
      reply.header('x-amzn-query-error', queryError.slice(QUERY_ERROR_PREFIX.length));
    }
  });
  try {
    await app.listen({ port: options.port ?? 0, host: '127.0.0.1' });
  } catch (error) {
    await app.close();
    throw error;
  }
  const { port } = app.server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  // The bus's deliveries and the event source mappings' receives go through it: a few calls a job.
  const client = withoutCallLogging(new SQSClient(localSqsClientConfig(endpoint)));
  let stopped: Promise<void> | undefined;

  const ensurePlainQueue: LocalSqs['ensurePlainQueue'] = (name, opts = {}) => {
    const attributes: Record<string, string> = {};
    if (opts.retentionSeconds !== undefined) attributes.MessageRetentionPeriod = String(opts.retentionSeconds);
    if (opts.visibilityTimeoutSeconds !== undefined) attributes.VisibilityTimeout = String(opts.visibilityTimeoutSeconds);
    return ensure(client, name, attributes);
  };

  return {
    endpoint,
    port,
    client,
    requestCounts,
    ensurePlainQueue,
    async ensureQueue(def) {
      const dlq = await ensurePlainQueue(def.dlq.name, { retentionSeconds: def.dlq.retentionSeconds });
      const queue = await ensure(client, def.name, queueAttributes(def, dlq.arn));
      return { url: queue.url, arn: queue.arn, dlqUrl: dlq.url, dlqArn: dlq.arn };
    },
    stop: () =>
      (stopped ??= (async () => {
        client.destroy();
        // Closing also releases long polls still waiting inside fauxqs (its preClose hook).
        await app.close();
      })()),
  };
}

/**
 * The attributes the CDK app's Queue construct produces for a declared queue: CDK serialises `deadLetterQueue` as a
 * RedrivePolicy of exactly these two keys. Key order matters locally: fauxqs compares attribute strings verbatim on
 * a repeated CreateQueue.
 */
export function queueAttributes(def: QueueDefinition, dlqArn: string): Record<string, string> {
  return {
    VisibilityTimeout: String(def.visibilityTimeoutSeconds),
    MessageRetentionPeriod: String(def.retentionSeconds),
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: def.maxReceiveCount }),
  };
}

/**
 * CreateQueue is idempotent for identical attributes and fails with QueueNameExists for different ones (in AWS and
 * in fauxqs). "Ensure" means "converge on the declaration", so in that case we set the declared attributes instead.
 */
async function ensure(client: SQSClient, name: string, attributes: Record<string, string>): Promise<EnsuredQueue> {
  let url: string | undefined;
  try {
    ({ QueueUrl: url } = await client.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes })));
  } catch (error) {
    if (!isQueueNameExists(error)) throw error;
    ({ QueueUrl: url } = await client.send(new GetQueueUrlCommand({ QueueName: name })));
    if (url && Object.keys(attributes).length > 0) {
      await client.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: attributes }));
    }
  }
  if (!url) throw new Error(`SQS returned no URL for queue ${name}`);
  // The ARN comes from the server rather than being assembled here, so it matches what fauxqs resolves redrives by.
  const { Attributes } = await client.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  const arn = Attributes?.QueueArn;
  if (!arn) throw new Error(`SQS returned no ARN for queue ${name}`);
  return { url, arn };
}

/**
 * SQS speaks JSON with query-protocol compatibility: the SDK names the error after the x-amzn-query-error header
 * when there is one, so fauxqs gives "AWS.SimpleQueueService.QueueNameExists" and AWS its legacy
 * "QueueAlreadyExists", and only a response without that header yields the modelled QueueNameExists class.
 */
function isQueueNameExists(error: unknown): boolean {
  return error instanceof QueueNameExists || /QueueNameExists|QueueAlreadyExists/.test(String((error as { name?: unknown })?.name));
}

/**
 * SQS answers in JSON but the SDK names an error after its query-protocol code (x-amzn-query-error). Codes of SQS's
 * own errors carry this prefix; the common InvalidParameterValue does not, so the SDK calls it just that in AWS.
 * fauxqs prefixes every code.
 */
const QUERY_ERROR_PREFIX = 'AWS.SimpleQueueService.';

interface SizeRefusal {
  code: string;
  queryCode: string;
  message: string;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;

/** Size as SQS counts it: UTF-8 bytes of the body, and of each attribute's name, type and value (binary decoded). */
function sqsMessageBytes(entry: Record<string, unknown>): number {
  const text = (value: unknown) => (typeof value === 'string' ? Buffer.byteLength(value) : 0);
  let bytes = text(entry.MessageBody);
  for (const [name, attribute] of Object.entries(isRecord(entry.MessageAttributes) ? entry.MessageAttributes : {})) {
    if (!isRecord(attribute)) continue;
    const binary = typeof attribute.BinaryValue === 'string' ? Buffer.byteLength(attribute.BinaryValue, 'base64') : 0;
    bytes += Buffer.byteLength(name) + text(attribute.DataType) + text(attribute.StringValue) + binary;
  }
  return bytes;
}

/** The error AWS gives a send over LOCAL_SQS_MESSAGE_LIMIT_BYTES; a batch is refused whole, as in AWS. */
function oversizeRefusal(target: unknown, body: unknown): SizeRefusal | undefined {
  const limit = LOCAL_SQS_MESSAGE_LIMIT_BYTES;
  if (!isRecord(body)) return undefined;
  if (target === 'AmazonSQS.SendMessage' && sqsMessageBytes(body) > limit) {
    const message = `One or more parameters are invalid. Reason: Message must be shorter than ${limit} bytes.`;
    return { code: 'InvalidParameterValue', queryCode: 'InvalidParameterValue', message };
  }
  if (target === 'AmazonSQS.SendMessageBatch' && Array.isArray(body.Entries)) {
    const total = body.Entries.reduce((sum: number, entry: unknown) => sum + (isRecord(entry) ? sqsMessageBytes(entry) : 0), 0);
    if (total <= limit) return undefined;
    const message = `Batch requests cannot be longer than ${limit} bytes. You have sent ${total} bytes.`;
    return { code: 'BatchRequestTooLong', queryCode: `${QUERY_ERROR_PREFIX}BatchRequestTooLong`, message };
  }
  return undefined;
}
