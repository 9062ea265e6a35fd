import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { EVENT_BUS } from '../functions/declarations/events.ts';
import { localTableName, TABLES } from '../functions/declarations/tables.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION, startDynamoDbLocal } from './dynamodb-local.ts';
import { PortInUseError, startHttpGateway, type GatewayHandler } from './http-gateway.ts';
import { isPortFree } from './ports.ts';
import { ensureTables } from './tables.ts';
import { createVerifier, issueLocalTokens, loadOrCreateSigningKey, type LocalTokens } from './tokens.ts';

export interface LocalRuntimeOptions {
  /** FORGEFLOW_HOME: the signing key and the DynamoDB data live here, so a restart keeps both. */
  home: string;
  /** The API port on 127.0.0.1; 0 picks a free one. */
  port: number;
  /** Defaults to a free port. */
  dynamoPort?: number;
  log: (message: string) => void;
}

export interface LocalRuntime {
  url: string;
  port: number;
  dynamoDbEndpoint: string;
  /** Fresh tokens for the three local personas, signed with the persisted key. */
  tokens: LocalTokens;
  /** Closes the gateway, then stops DynamoDB Local. Safe to call more than once. */
  stop(): Promise<void>;
}

type LambdaHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyResultV2>;

const FUNCTION_NAME = 'forgeflow-api-local';
/** What getRemainingTimeInMillis counts down from: an API function's timeout stays under the 30 s integration limit. */
const FUNCTION_TIMEOUT_MS = 29_000;

// The handler reads its configuration from process.env, which is process-wide, so two runtimes would fight over it.
let running = false;
let handlerInstances = 0;

/**
 * Starts what `npm start` serves: DynamoDB Local with the declared tables, then the api Lambda handler behind the
 * HTTP API emulation. The handler is the very module Lambda runs, wired by the environment variables it reads in AWS.
 */
export async function startLocalRuntime(options: LocalRuntimeOptions): Promise<LocalRuntime> {
  if (running) throw new Error('A local runtime is already running in this process; stop it before starting another.');
  running = true;
  const home = resolve(options.home);
  // Undone in reverse order by stop(), or at once if start fails half way: no Java process outlives a failed start.
  const undo: Array<() => Promise<void> | void> = [];
  const stopAll = async () => {
    for (const step of undo.reverse()) await step();
    undo.length = 0;
    running = false;
  };
  try {
    // Check before starting Java, so a taken port fails in milliseconds with a clear message.
    if (options.port !== 0 && !(await isPortFree(options.port))) throw new PortInUseError(options.port);
    const key = await loadOrCreateSigningKey(home);

    const dynamo = await startDynamoDbLocal({ dataDir: join(home, 'dynamodb'), port: options.dynamoPort });
    undo.push(() => dynamo.stop());
    const client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    try {
      await ensureTables(client, localTableName);
    } finally {
      client.destroy();
    }

    undo.push(setEnvironment(lambdaEnvironment(dynamo.endpoint)));
    const { handler } = await importHandler();

    const gateway = await startHttpGateway({ handler: invoke(handler), verify: createVerifier(key), port: options.port, log: options.log });
    undo.push(() => gateway.close());

    const tokens = await issueLocalTokens(key);
    let stopped: Promise<void> | undefined;
    return {
      url: gateway.url,
      port: gateway.port,
      dynamoDbEndpoint: dynamo.endpoint,
      tokens,
      stop: () => (stopped ??= stopAll()),
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** What the CDK app gives the api function, with local values: table names from the declarations, the local endpoint. */
function lambdaEnvironment(dynamoDbEndpoint: string): Record<string, string> {
  return {
    ...Object.fromEntries(TABLES.map((table) => [table.envVar, localTableName(table)])),
    AWS_ENDPOINT_URL_DYNAMODB: dynamoDbEndpoint,
    AWS_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    [EVENT_BUS.envVar]: EVENT_BUS.name,
    // No local bus is served yet: without this the handler's direct publish would call the real EventBridge
    // endpoint with local keys on every submit. The outbox row is written either way, so nothing is lost.
    OPTIMISTIC_PUBLISH: 'false',
    // Nothing collects Embedded Metric Format lines here; they would only bury the request log. An explicit
    // POWERTOOLS_METRICS_DISABLED=false from the caller still wins.
    POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED ?? 'true',
  };
}

/** Sets variables and returns the function that puts the previous values back. */
function setEnvironment(values: Record<string, string>): () => void {
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

/**
 * Imports the handler only now that its environment is set: it reads its configuration at module load (cold start).
 * A later runtime in the same process gets a fresh module instance, as a new Lambda execution environment would,
 * so it is wired to that runtime's DynamoDB Local rather than to a stopped one.
 */
async function importHandler(): Promise<{ handler: LambdaHandler }> {
  const url = new URL('../functions/api/handler.ts', import.meta.url);
  handlerInstances += 1;
  if (handlerInstances > 1) url.search = `instance=${handlerInstances}`;
  return (await import(url.href)) as { handler: LambdaHandler };
}

/** The Lambda invoke boundary: the event and the result cross it as JSON, with a context like Lambda's. */
function invoke(handler: LambdaHandler): GatewayHandler {
  return async (event) => {
    const result = await handler(JSON.parse(JSON.stringify(event)) as APIGatewayProxyEventV2, lambdaContext());
    return result === undefined ? result : (JSON.parse(JSON.stringify(result)) as APIGatewayProxyResultV2);
  };
}

function lambdaContext(): Context {
  const deadline = Date.now() + FUNCTION_TIMEOUT_MS;
  const unsupported = () => {
    throw new Error('context.done/fail/succeed are not supported: return a promise');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: FUNCTION_NAME,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${LOCAL_REGION}:000000000000:function:${FUNCTION_NAME}`,
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${FUNCTION_NAME}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}
