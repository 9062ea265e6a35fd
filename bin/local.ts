/**
 * `npm start`: the Forgeflow API on this machine, with DynamoDB Local and the same Lambda handler as in AWS.
 * Environment: FORGEFLOW_HOME (default ./.forgeflow), PORT (default 3000), FORGEFLOW_DEMO=0 to skip the demo job,
 * LOG_FORMAT=json for every structured log line instead of the banner's job lines, NO_COLOR to never colour them.
 */
import { resolve } from 'node:path';
import { JavaMissingError } from '../local/dynamodb-local.ts';
import { assertApiPortFree, launchHomeDynamoDb } from '../local/runtime-start.ts';
import { PortInUseError } from '../local/http-gateway.ts';
import type { JobFollower } from '../local/job-follower.ts';
import type { LocalRuntime } from '../local/runtime.ts';
import { writeTokens, type LocalTokens } from '../local/tokens.ts';
import { formatBanner, prepareTerminal } from '../local/terminal.ts';
import { oneLine } from '../local/terminal-style.ts';

// The AWS SDK's documented switch for its Node-version notice, printed as a multi-line warning by the first client.
// The SDK reads it when a client is constructed, which none of the imports above does, so setting it here is early
// enough; Node 20 is what this machine has and the notice would bury the lines below on every start.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const home = resolve(process.env.FORGEFLOW_HOME || '.forgeflow');
const port = Number(process.env.PORT || 3000);
const runDemo = process.env.FORGEFLOW_DEMO !== '0';

// Before anything reads the environment: the handlers and agents read their log level when they start.
let terminal: ReturnType<typeof prepareTerminal>;
try {
  terminal = prepareTerminal();
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}

let runtime: LocalRuntime | undefined;
let stopping = false;

function onSignal(signal: NodeJS.Signals): void {
  if (stopping) {
    console.error(`${signal} again: exiting without waiting (DynamoDB Local is stopped by its watchdog).`);
    process.exit(1);
  }
  stopping = true;
  console.log(`${signal}: stopping the API, then DynamoDB Local...`);
  // A signal during start-up has no runtime to stop yet; exiting closes the watchdog's pipe, which stops Java.
  (runtime?.stop() ?? Promise.resolve()).then(
    () => {
      console.log('Stopped.');
      process.exit(0);
    },
    (error: unknown) => {
      console.error(`Stopping failed: ${(error as Error).message}`);
      process.exit(1);
    },
  );
}
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

function countFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 64) {
    console.error(`${name} must be a whole number from 0 to 64; got "${raw}".`);
    process.exit(1);
  }
  return value;
}

async function main(): Promise<void> {
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    console.error(`PORT must be a port number (0-65535); got "${process.env.PORT}".`);
    process.exit(1);
  }
  try {
    // Java first, then the runtime's modules (about 1 s to load), so that the two starts overlap.
    await assertApiPortFree(port);
    const launchedDynamoDb = await launchHomeDynamoDb(home);
    const { startLocalRuntime } = await import('../local/runtime.ts');
    runtime = await startLocalRuntime({
      home,
      port,
      launchedDynamoDb,
      log: (message) => console.error(message),
      // Absent: the class's own local minimum (1) and slots (4).
      ...(process.env.FORGEFLOW_WORKERS ? { workers: countFromEnv('FORGEFLOW_WORKERS', 1) } : {}),
      ...(process.env.FORGEFLOW_WORKER_CONCURRENCY ? { workerConcurrency: countFromEnv('FORGEFLOW_WORKER_CONCURRENCY', 4) } : {}),
    });
  } catch (error) {
    if (error instanceof JavaMissingError || error instanceof PortInUseError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const { file, tokens } = await writeTokens(home);
  const personas = Object.keys(tokens) as Array<keyof LocalTokens>;
  // Since the process started, module loading included: what the person who typed `npm start` waited.
  const startedSeconds = performance.now() / 1000;
  console.log(formatBanner({ url: runtime.url, home, tokensFile: file, personas, startedSeconds }, terminal.color).join('\n'));
  // Subscribed once the banner is out, so the lines follow it; events of the start itself (recovery) are not shown.
  const { followJobEvents } = await import('../local/job-follower.ts');
  const follower = followJobEvents(runtime.backbone.bus, { format: terminal.format, color: terminal.color, write: (line) => console.log(line) });

  if (runDemo) await submitDemoJob(runtime.url, tokens.user, follower);
}

/** One job over real HTTP on every start, followed to its end, so a new user sees the whole path work. */
async function submitDemoJob(url: string, token: string, follower: JobFollower): Promise<void> {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  try {
    const response = await fetch(`${url}/v1/jobs`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ command: 'echo "hello from $1 on $(uname -s)"', args: ['forgeflow'], metadata: { demo: 'true' } }),
    });
    const submitted = (await response.json()) as { jobId?: string; message?: string };
    if (!response.ok || !submitted.jobId) {
      console.error(`The demo job was refused (${response.status}): ${submitted.message ?? 'no message'}`);
      return;
    }
    // Its state changes print as job lines; its end comes from the same events, so nothing polls (or logs a poll).
    if (!(await follower.waitForEnd(submitted.jobId, 60_000))) {
      console.log(`Demo job ${submitted.jobId} is still running; see GET /v1/jobs/${submitted.jobId}`);
      return;
    }
    // Then its result is read once over HTTP, as a user reads it.
    const job = (await (await fetch(`${url}/v1/jobs/${submitted.jobId}`, { headers })).json()) as DemoJob;
    const outcome = job.failure ? `${job.failure.reason}: ${job.failure.message}` : (job.result?.outputTail ?? '');
    console.log(`Demo job ${submitted.jobId} ${job.status}: ${oneLine(outcome)}`);
  } catch (error) {
    console.error(`The demo job could not be run: ${(error as Error).message}`);
  }
}

interface DemoJob {
  status: string;
  result?: { outputTail: string };
  failure?: { reason: string; message: string };
}

main().catch((error: unknown) => {
  console.error(`Forgeflow could not start: ${(error as Error).stack ?? String(error)}`);
  // Exiting closes the pipe the DynamoDB Local watchdog listens on, so no Java process is left behind.
  process.exit(1);
});
