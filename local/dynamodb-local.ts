import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { freePort, isPortFree } from './ports.ts';

/**
 * The credentials of the tests' shared in-memory DynamoDB Local, and of every local service that checks none (SQS,
 * Step Functions, EventBridge). Not secrets. The runtime's own DynamoDB uses a per-home key (local/credentials.ts).
 */
export const LOCAL_CREDENTIALS = { accessKeyId: 'forgeflowlocal', secretAccessKey: 'forgeflowlocal' };
export type LocalCredentials = typeof LOCAL_CREDENTIALS;
export const LOCAL_REGION = 'us-east-1';

export interface DynamoDbLocal {
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

export interface DynamoDbLocalOptions {
  /** Folder for the database file; omitted: in memory. */
  dataDir?: string;
  port?: number;
  /** How long to wait for the first answer. */
  startTimeoutMs?: number;
  /**
   * Set: one database per access key (DynamoDB Local's default), so only a client holding this key sees the data.
   * DynamoDB Local answers CORS requests from any origin: the key is what keeps a web page on this machine out.
   * Absent: one database for any key (the tests' in-memory instance).
   */
  credentials?: LocalCredentials;
}

export class JavaMissingError extends Error {
  override name = 'JavaMissingError';
  constructor() {
    super(
      'DynamoDB Local needs Java 17 or newer and no `java` was found on PATH: install it (Debian/Ubuntu: ' +
        '`sudo apt-get install -y default-jre-headless`, macOS: `brew install openjdk`) and run again.',
    );
  }
}

export function assertJavaAvailable(): void {
  const probe = spawnSync('java', ['-version'], { stdio: 'ignore' });
  if (probe.error || probe.status !== 0) throw new JavaMissingError();
}

const WATCHDOG = fileURLToPath(new URL('./dynamodb-watchdog.mjs', import.meta.url));

/** DynamoDB Local on its way up: its endpoint is known at once, `ready` says when it answers. */
export interface LaunchedDynamoDbLocal extends DynamoDbLocal {
  /** Resolves once it answers ListTables; rejects, with the process stopped, if it exits first or never answers. */
  ready: Promise<void>;
}

/** Starts DynamoDB Local on 127.0.0.1 only (see the watchdog) and resolves once it answers ListTables. */
export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  const { ready, ...dynamo } = await launchDynamoDbLocal(options);
  await ready;
  return dynamo;
}

/**
 * Starts DynamoDB Local without waiting for it to answer, so that a caller can do meanwhile what needs no table: Java
 * takes about 2.5 s to answer, and the local runtime imports its handlers in that time.
 */
export async function launchDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<LaunchedDynamoDbLocal> {
  assertJavaAvailable();
  const port = options.port ?? (await freePort());
  if (!(await isPortFree(port))) {
    throw new Error(`Port ${port} is taken; is another DynamoDB Local (perhaps an orphan of an earlier run) still listening there?`);
  }
  let dataArg = '-';
  if (options.dataDir) {
    // DynamoDB Local runs with its working directory inside the package and exits quietly on a bad folder.
    dataArg = isAbsolute(options.dataDir) ? options.dataDir : resolve(options.dataDir);
    mkdirSync(dataArg, { recursive: true });
  }
  // Detached: Ctrl-C in a terminal signals the whole foreground group; DynamoDB Local must outlive the gateway's
  // shutdown, so it stops only when we close its stdin (or we die and the kernel closes it for us).
  const child = spawn(process.execPath, [WATCHDOG, String(port), dataArg, options.credentials ? 'separate' : 'shared'], {
    detached: true,
    stdio: ['pipe', 'ignore', 'pipe'],
    env: { ...process.env, DDB_LOCAL_TELEMETRY: '0' },
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const ready = waitUntilReady(endpoint, child, options.startTimeoutMs ?? 60_000, () => stderr, options.credentials ?? LOCAL_CREDENTIALS).catch(async (error: unknown) => {
    // Through the watchdog, never past it: a SIGKILLed watchdog cannot stop the Java process it started.
    await stopChild(child);
    throw error;
  });
  return { endpoint, port, stop: () => stopChild(child), ready };
}

async function waitUntilReady(endpoint: string, child: ChildProcess, timeoutMs: number, stderr: () => string, credentials: LocalCredentials): Promise<void> {
  const client = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: { ...credentials }, maxAttempts: 1 });
  const deadline = Date.now() + timeoutMs;
  let exited: number | null = null;
  child.once('exit', (code) => {
    exited = code ?? -1;
  });
  try {
    while (Date.now() < deadline) {
      if (exited !== null) {
        if (exited === 127) throw new JavaMissingError();
        throw new Error(`DynamoDB Local exited with code ${exited} before it was ready. ${stderr().trim()}`);
      }
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        return;
      } catch {
        // Not listening yet: poll again shortly. This is a readiness probe, not test synchronisation.
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw new Error(`DynamoDB Local did not answer on ${endpoint} within ${timeoutMs} ms. ${stderr().trim()}`);
  } finally {
    client.destroy();
  }
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolveStop) => {
    child.once('exit', () => resolveStop());
    // Closing stdin is the watchdog's signal to stop Java; SIGTERM covers a watchdog that ignores it.
    child.stdin?.end();
    child.kill('SIGTERM');
  });
}
