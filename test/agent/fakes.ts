import { randomUUID } from 'node:crypto';
import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import type { AgentConfig } from '../../agent/config.ts';
import { PRIORITIES, type Priority } from '../../functions/core/priority.ts';
import type { DispatchMessage } from '../../functions/core/saga-messages.ts';
import { dispatchQueue, WORKER_REPORTS_QUEUE } from '../../functions/declarations/workers.ts';
import { checkTaskAnswer } from '../../local/stepfunctions/operations.ts';
import { ServiceError, startJsonProtocolServer, type JsonProtocolServer } from '../../local/json-protocol-server.ts';
import type { LocalSqs } from '../../local/sqs.ts';

/**
 * Test doubles for the agent: real SQS (fauxqs, in-process) and a fake Step Functions endpoint that speaks the AWS
 * JSON protocol, so the agent runs with the real SDK clients. Tests wait on recorded calls and agent events with a
 * deadline (`until`), never on sleeps.
 */
export const CREDENTIALS = { accessKeyId: 'agenttest', secretAccessKey: 'agenttest' };

/** A log of items; `until` resolves once `condition()` holds, checked at every push and every 20 ms (for outside state). */
export class Recorder<T> {
  readonly items: T[] = [];
  private readonly waiters = new Set<() => void>();
  push(item: T): void {
    this.items.push(item);
    this.waiters.forEach((wake) => wake());
  }
  async until<R>(what: string, condition: () => R | undefined | false, timeoutMs = 15_000): Promise<R> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const result = condition();
      if (result) return result;
      if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
      let wake!: () => void;
      const woken = new Promise<void>((resolve) => (wake = resolve));
      this.waiters.add(wake);
      const timer = setTimeout(wake, 20);
      await woken;
      clearTimeout(timer);
      this.waiters.delete(wake);
    }
  }
}

export interface SfnCall {
  operation: 'SendTaskSuccess' | 'SendTaskFailure' | 'SendTaskHeartbeat';
  input: { taskToken: string; output?: string; error?: string; cause?: string };
  at: number;
}

export interface FakeStepFunctions {
  endpoint: string;
  calls: Recorder<SfnCall>;
  /** Tokens whose task is over: every call for them answers TaskTimedOut. */
  over: Set<string>;
  /**
   * Per call, an error to answer instead of 200 (checked before `over`); with a `taskToken`, only that task's calls
   * take it, so an agent another test left draining cannot use up a failure planned for this one.
   */
  failNext: Array<{ operation: SfnCall['operation']; type: string; status: number; taskToken?: string }>;
  /** Per call, a wait before answering (a slow service, an answer retried inside the SDK). */
  delayNext: Array<{ operation: SfnCall['operation']; ms: number }>;
  callsFor(token: string, operation?: SfnCall['operation']): SfnCall[];
  close(): Promise<void>;
}

export async function startFakeStepFunctions(): Promise<FakeStepFunctions> {
  const calls = new Recorder<SfnCall>();
  const over = new Set<string>();
  const failNext: FakeStepFunctions['failNext'] = [];
  const delayNext: FakeStepFunctions['delayNext'] = [];
  const operation = (name: SfnCall['operation']) => async (input: Record<string, unknown>) => {
    const call = { operation: name, input: input as SfnCall['input'], at: Date.now() };
    calls.push(call);
    // As strict as Step Functions: an answer over its limits is refused, and the agent must never send one.
    checkTaskAnswer(input);
    const slow = delayNext.findIndex((d) => d.operation === name);
    if (slow >= 0) await new Promise((resolve) => setTimeout(resolve, delayNext.splice(slow, 1)[0]!.ms));
    const planned = failNext.findIndex((f) => f.operation === name && (f.taskToken === undefined || f.taskToken === call.input.taskToken));
    if (planned >= 0) {
      const [failure] = failNext.splice(planned, 1);
      throw new ServiceError(failure!.type, 'planned failure', failure!.status);
    }
    if (over.has(call.input.taskToken)) throw new ServiceError('TaskTimedOut', 'Task Timed Out');
    return {};
  };
  const server: JsonProtocolServer = await startJsonProtocolServer({
    'AWSStepFunctions.SendTaskSuccess': operation('SendTaskSuccess'),
    'AWSStepFunctions.SendTaskFailure': operation('SendTaskFailure'),
    'AWSStepFunctions.SendTaskHeartbeat': operation('SendTaskHeartbeat'),
  });
  return {
    endpoint: server.endpoint,
    calls,
    over,
    failNext,
    delayNext,
    callsFor: (token, op) => calls.items.filter((c) => c.input.taskToken === token && (!op || c.operation === op)),
    close: () => server.close(),
  };
}

export interface TestQueues {
  urls: Record<Priority, string>;
  dlqUrls: Record<Priority, string>;
  reportsUrl: string;
  /** The variables bin/agent.ts reads, for child-process agents. */
  env: Record<string, string>;
}

/** Four dispatch queues (unique names per test) with a short visibility timeout, plus a reports queue. */
export async function createQueues(sqs: LocalSqs, options: { visibilityTimeoutSeconds?: number; maxReceiveCount?: number } = {}): Promise<TestQueues> {
  const prefix = `t${randomUUID().slice(0, 8)}`;
  const urls = {} as Record<Priority, string>;
  const dlqUrls = {} as Record<Priority, string>;
  const env: Record<string, string> = {};
  for (const priority of PRIORITIES) {
    const declared = dispatchQueue('default', priority);
    const name = `${prefix}-${priority}`;
    const queue = await sqs.ensureQueue({
      ...declared,
      name,
      visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? 2,
      maxReceiveCount: options.maxReceiveCount ?? declared.maxReceiveCount,
      dlq: { ...declared.dlq, name: `${name}-dlq` },
    });
    urls[priority] = queue.url;
    dlqUrls[priority] = queue.dlqUrl;
    env[declared.envVar] = queue.url;
  }
  const reports = await sqs.ensurePlainQueue(`${prefix}-reports`);
  env[WORKER_REPORTS_QUEUE.envVar] = reports.url;
  return { urls, dlqUrls, reportsUrl: reports.url, env };
}

export function testConfig(queues: TestQueues, overrides: Partial<AgentConfig> = {}): AgentConfig {
  return {
    workerClass: 'default',
    concurrency: 4,
    workerId: 'test-worker',
    killGraceMs: 500,
    drainTimeoutSeconds: 10,
    idleWaitSeconds: 1,
    livenessIntervalSeconds: 0.3,
    visibilityExtensionSeconds: 2,
    queueUrls: queues.urls,
    reportsQueueUrl: queues.reportsUrl,
    ...overrides,
  };
}

export function dispatch(overrides: Partial<DispatchMessage> = {}): DispatchMessage {
  const id = randomUUID();
  return {
    taskToken: `token-${id}`,
    jobId: `job-${id.slice(0, 8)}`,
    tenantId: 'tenant-a',
    run: 1,
    attempt: 1,
    command: 'true',
    args: [],
    env: {},
    timeoutSeconds: 30,
    workerClass: 'default',
    priority: 'medium',
    ...overrides,
  };
}

export async function enqueue(client: SQSClient, queues: TestQueues, message: DispatchMessage | string, priority: Priority = 'medium'): Promise<void> {
  const body = typeof message === 'string' ? message : JSON.stringify(message);
  await client.send(new SendMessageCommand({ QueueUrl: queues.urls[priority], MessageBody: body }));
}

/** Visible + in flight: 0 once every message was deleted. */
export async function messagesIn(client: SQSClient, url: string): Promise<number> {
  const { Attributes = {} } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return Number(Attributes.ApproximateNumberOfMessages ?? 0) + Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0);
}

export async function receiveAll(client: SQSClient, url: string, waitSeconds = 0): Promise<Message[]> {
  const { Messages = [] } = await client.send(
    new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: waitSeconds, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }),
  );
  return Messages;
}
