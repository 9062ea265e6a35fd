import { randomUUID } from 'node:crypto';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context } from 'aws-lambda';
import { LOCAL_REGION } from './dynamodb-local.ts';
import { loadHandlerModule } from './handler-modules.ts';
import { isHandlerModule } from './runtime-bundle.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Any Lambda handler: event in, result out. */
export type LambdaHandler<E = unknown, R = unknown> = (event: E, context: Context) => Promise<R>;

let instances = 0;

/** Invocations per function name in this process, so benchmarks can price the Lambda requests a workload makes. */
export const invocationCounts = new Map<string, number>();
/** Milliseconds spent in each function, for the GB-second side of the same estimate. */
export const invocationMillis = new Map<string, number>();

/**
 * Imports a handler module only once its environment is set: handlers read their configuration at module load
 * (cold start). A later runtime in the same process gets a fresh module instance, as a new Lambda execution
 * environment would, so it is wired to that runtime's services rather than to stopped ones.
 */
export async function importHandler<E, R>(relativePath: string): Promise<LambdaHandler<E, R>> {
  const url = new URL(relativePath, import.meta.url);
  const path = relative(ROOT, fileURLToPath(url));
  // npm start's bundle holds the modules this rule names, and no others.
  if (!isHandlerModule(path)) throw new Error(`${path} is not named as a handler module (local/runtime-bundle.mjs isHandlerModule)`);
  instances += 1;
  url.search = `instance=${instances}`;
  const module = (await loadHandlerModule(url)) as { handler: LambdaHandler<E, R> };
  return module.handler;
}

const invocationEndListeners = new Set<() => void>();

/**
 * Calls `listener` each time an invocation in this process ends: what the function wrote may now be in a table's
 * stream, and the local stream poller reads it at once instead of at its next poll. Returns the unsubscribe.
 */
export function onInvocationEnd(listener: () => void): () => void {
  invocationEndListeners.add(listener);
  return () => void invocationEndListeners.delete(listener);
}

/** The Lambda invoke boundary: the event and the result cross it as JSON, with a context like Lambda's. */
export function invoker<E, R>(functionName: string, handler: LambdaHandler<E, R>, timeoutMs: number): (event: E) => Promise<R> {
  return async (event) => {
    invocationCounts.set(functionName, (invocationCounts.get(functionName) ?? 0) + 1);
    const started = performance.now();
    const result = await handler(JSON.parse(JSON.stringify(event)) as E, lambdaContext(functionName, timeoutMs)).finally(() => {
      invocationMillis.set(functionName, (invocationMillis.get(functionName) ?? 0) + performance.now() - started);
      for (const listener of invocationEndListeners) listener();
    });
    return result === undefined ? result : (JSON.parse(JSON.stringify(result)) as R);
  };
}

export function lambdaContext(functionName: string, timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  const unsupported = () => {
    throw new Error('context.done/fail/succeed are not supported: return a promise');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${LOCAL_REGION}:000000000000:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}

/** Sets variables and returns the function that puts the previous values back. */
export function setEnvironment(values: Record<string, string>): () => void {
  const previous = Object.fromEntries(Object.keys(values).map((name) => [name, process.env[name]]));
  // A real AWS session token in the shell must not ride along with the local keys.
  previous.AWS_SESSION_TOKEN = process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_SESSION_TOKEN;
  Object.assign(process.env, values);
  return () => {
    for (const [name, value] of Object.entries(previous)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}
