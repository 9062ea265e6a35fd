import { LOCAL_HEARTBEAT_FIELD, LOCAL_TIMEOUT_FIELD, TASK_TOKEN_PLACEHOLDER } from './local-definition.ts';
import type { TaskTokenRegistry } from './token-registry.ts';

/** The Task implementations the local engine hands aws-local-stepfunctions (see local-definition.ts). */

export const namedError = (name: string, message: string): Error => Object.assign(new Error(message), { name });

/**
 * What crossing the Lambda boundary does in AWS: input and output are JSON, and a thrown error arrives with
 * `Error` = its name and `Cause` = `{"errorType","errorMessage"}` JSON, so Categorize sees the same shapes here.
 */
export function lambdaBoundary(handler: (input: unknown) => Promise<unknown>): (input: unknown) => Promise<unknown> {
  return async (input) => {
    let output: unknown;
    try {
      output = await handler(JSON.parse(JSON.stringify(input ?? null)));
    } catch (error) {
      const name = error instanceof Error && error.name ? error.name : 'Error';
      const message = error instanceof Error ? error.message : String(error);
      throw namedError(name, JSON.stringify({ errorType: name, errorMessage: message }));
    }
    return output === undefined ? null : JSON.parse(JSON.stringify(output));
  };
}

/** A Wait run by the engine: the same duration as the ASL says, times the scale; a stop ends it at once. */
export async function scaledWait(input: unknown, scale: number, signal: AbortSignal): Promise<null> {
  const { seconds, timestamp } = (input ?? {}) as { seconds?: unknown; timestamp?: unknown };
  let ms: number;
  if (seconds !== undefined) {
    if (!Number.isInteger(seconds) || (seconds as number) < 0) throw namedError('States.Runtime', `Wait seconds must be a non-negative integer, got ${JSON.stringify(seconds)}`);
    ms = (seconds as number) * 1000;
  } else {
    const at = typeof timestamp === 'string' ? Date.parse(timestamp) : Number.NaN;
    if (Number.isNaN(at)) throw namedError('States.Runtime', `Wait timestamp must be an ISO 8601 time, got ${JSON.stringify(timestamp)}`);
    ms = at - Date.now();
  }
  await sleep(Math.max(0, ms * scale), signal);
  return null;
}

export interface TaskTokenContext {
  registry: TaskTokenRegistry;
  executionArn: string;
  stateName: string;
  signal: AbortSignal;
}

export interface DispatchContext extends TaskTokenContext {
  sendMessage(queueUrl: string, body: string): Promise<void>;
}

/**
 * `sqs:sendMessage.waitForTaskToken`: mints one token for this attempt, puts it where the ASL put `$$.Task.Token`,
 * sends the message and waits for SendTaskSuccess/SendTaskFailure through the registry.
 */
export async function dispatchWithTaskToken(input: unknown, context: DispatchContext): Promise<unknown> {
  const { QueueUrl, MessageBody, [LOCAL_TIMEOUT_FIELD]: timeoutSeconds, [LOCAL_HEARTBEAT_FIELD]: heartbeatSeconds } = (input ?? {}) as Record<string, unknown>;
  if (typeof QueueUrl !== 'string' || MessageBody === undefined) throw namedError('States.Runtime', 'sqs:sendMessage needs QueueUrl and MessageBody');
  return awaitTaskToken(MessageBody, { timeoutSeconds, heartbeatSeconds }, context, (body) => context.sendMessage(QueueUrl, typeof body === 'string' ? body : JSON.stringify(body)));
}

/** `lambda:invoke.waitForTaskToken`: invokes the handler with the Payload (token in place), then waits for the answer. */
export async function invokeWithTaskToken(input: unknown, handler: (payload: unknown) => Promise<unknown>, context: TaskTokenContext): Promise<unknown> {
  const { Payload, [LOCAL_TIMEOUT_FIELD]: timeoutSeconds, [LOCAL_HEARTBEAT_FIELD]: heartbeatSeconds } = (input ?? {}) as Record<string, unknown>;
  if (Payload === undefined) throw namedError('States.Runtime', 'lambda:invoke needs a Payload');
  return awaitTaskToken(Payload, { timeoutSeconds, heartbeatSeconds }, context, async (payload) => {
    await lambdaBoundary(handler)(payload);
  });
}

/**
 * The waitForTaskToken pattern: mint the attempt's token, deliver the body carrying it, wait through the registry.
 * The state's timeout and heartbeat timeout are enforced here: when one fires the token is abandoned (a late answer
 * gets TaskTimedOut, as in AWS) and the state fails with States.Timeout or States.HeartbeatTimeout.
 */
async function awaitTaskToken(template: unknown, limits: { timeoutSeconds: unknown; heartbeatSeconds: unknown }, context: TaskTokenContext, deliver: (body: unknown) => Promise<void>): Promise<unknown> {
  const timeoutSeconds = positiveSeconds('TimeoutSeconds', limits.timeoutSeconds);
  const heartbeatSeconds = positiveSeconds('HeartbeatSeconds', limits.heartbeatSeconds);
  const { token, result } = context.registry.register({ executionArn: context.executionArn, stateName: context.stateName });
  // Observed at once: an abandon before we reach `await result` must not count as an unhandled rejection.
  result.catch(() => undefined);
  const body = withToken(template, token);
  if (body.replaced === 0) {
    context.registry.abandon(token, namedError('States.Runtime', 'no token'));
    throw namedError('States.Runtime', `State ${context.stateName} does not pass $$.Task.Token`);
  }
  const timer =
    timeoutSeconds === undefined
      ? undefined
      : setTimeout(() => {
          context.registry.abandon(token, namedError('States.Timeout', `State ${context.stateName} timed out after ${String(timeoutSeconds)} s`));
        }, timeoutSeconds * 1000);
  const heartbeats = heartbeatSeconds === undefined ? undefined : watchHeartbeats(token, heartbeatSeconds, context);
  try {
    if (context.signal.aborted) throw namedError('ExecutionAborted', 'The execution was stopped');
    await deliver(body.value);
    return await result;
  } catch (error) {
    context.registry.abandon(token, error as Error);
    throw error;
  } finally {
    clearTimeout(timer);
    heartbeats?.stop();
  }
}

function positiveSeconds(field: string, value: unknown): number | undefined {
  if (value !== undefined && (!Number.isInteger(value) || (value as number) < 1)) {
    throw namedError('States.Runtime', `${field} must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value as number | undefined;
}

/** HeartbeatSeconds: the task fails with States.HeartbeatTimeout once no heartbeat has come for that long. */
function watchHeartbeats(token: string, seconds: number, context: TaskTokenContext): { stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  const check = () => {
    const since = context.registry.sinceHeartbeat(token);
    if (since === undefined) return; // answered or abandoned meanwhile
    const left = seconds * 1000 - since;
    if (left > 0) timer = setTimeout(check, left);
    else context.registry.abandon(token, namedError('States.HeartbeatTimeout', `State ${context.stateName} had no heartbeat for ${seconds} s`));
  };
  timer = setTimeout(check, seconds * 1000);
  return { stop: () => clearTimeout(timer) };
}

/** Replaces the placeholder wherever it occurs (a string body or any field of a JSON body). */
function withToken(value: unknown, token: string): { value: unknown; replaced: number } {
  let replaced = 0;
  const walk = (node: unknown): unknown => {
    if (typeof node === 'string') {
      if (!node.includes(TASK_TOKEN_PLACEHOLDER)) return node;
      replaced += 1;
      return node.split(TASK_TOKEN_PLACEHOLDER).join(token);
    }
    if (Array.isArray(node)) return node.map(walk);
    if (node && typeof node === 'object') return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v)]));
    return node;
  };
  return { value: walk(value), replaced };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
