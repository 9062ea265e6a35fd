import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { createAgent, type Agent } from '../../agent/agent.ts';
import type { AgentConfig } from '../../agent/config.ts';
import type { AgentEvent, StartGate } from '../../agent/job.ts';
import { localSqsClientConfig, LOCAL_SQS_REGION, startLocalSqs, type LocalSqs } from '../../local/sqs.ts';
import { createQueues, CREDENTIALS, Recorder, startFakeStepFunctions, testConfig, type FakeStepFunctions, type TestQueues } from './fakes.ts';

/** Agents under test: in-process (with an event log and an SQS call spy) or as a real child process. */
export interface SqsCall {
  command: string;
  input: { QueueUrl?: string; MaxNumberOfMessages?: number; WaitTimeSeconds?: number; VisibilityTimeout?: number };
  phase: 'sent' | 'answered';
  /** Receives sent but not answered yet, and their MaxNumberOfMessages, at the time of this call. */
  inFlightReceives: number;
  inFlightLongPolls: number;
  inFlightMax: number;
  /** Messages the agent held (received, not finished) at the time of this call. */
  held: number;
}

export interface InProcessAgent {
  agent: Agent;
  events: Recorder<AgentEvent & { at: number }>;
  /** Every SQS call the agent makes, seen by a middleware on its client. */
  sqsCalls: Recorder<SqsCall>;
  sqs: SQSClient;
  /** Drains (if not done yet) and destroys the clients. */
  stop(): Promise<void>;
}

export function startInProcessAgent(sqsServer: LocalSqs, sfn: FakeStepFunctions, config: AgentConfig, retry = { attempts: 3, baseDelayMs: 20 }, startGate?: StartGate): InProcessAgent {
  const events = new Recorder<AgentEvent & { at: number }>();
  const sqs = new SQSClient(localSqsClientConfig(sqsServer.endpoint));
  const sqsCalls = new Recorder<SqsCall>();
  const inFlight = new Set<SqsCall['input']>();
  let held = 0;
  const record = (command: string, input: SqsCall['input'], phase: SqsCall['phase']) => {
    const receives = [...inFlight];
    const inFlightMax = receives.reduce((sum, r) => sum + (r.MaxNumberOfMessages ?? 1), 0);
    const inFlightLongPolls = receives.filter((r) => (r.WaitTimeSeconds ?? 0) > 0).length;
    sqsCalls.push({ command, input, phase, inFlightReceives: receives.length, inFlightLongPolls, inFlightMax, held });
  };
  sqs.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as SqsCall['input'];
      const command = context.commandName ?? 'unknown';
      const receive = command === 'ReceiveMessageCommand';
      if (receive) inFlight.add(input);
      record(command, input, 'sent');
      try {
        return await next(args);
      } finally {
        if (receive) inFlight.delete(input);
        record(command, input, 'answered');
      }
    },
    { step: 'initialize', name: 'agentTestSpy' },
  );
  const sfnClient = new SFNClient({ endpoint: sfn.endpoint, region: LOCAL_SQS_REGION, credentials: CREDENTIALS });
  const agent = createAgent({ config, sqs, sfn: sfnClient, logger: new Logger({ serviceName: 'agent-test' }), retry, ...(startGate ? { startGate } : {}), onEvent: (event) => {
      if (event.type === 'received') held++;
      if (event.type === 'finished') held--;
      events.push({ ...event, at: Date.now() });
    },
  });
  const loop = agent.start();
  return {
    agent,
    events,
    sqsCalls,
    sqs,
    async stop() {
      await agent.drain();
      await loop;
      sqs.destroy();
      sfnClient.destroy();
    },
  };
}

export const finished = (events: Recorder<AgentEvent & { at: number }>, token: string) =>
  events.until(`job ${token} to finish`, () => events.items.find((e): e is Extract<AgentEvent, { type: 'finished' }> & { at: number } => e.type === 'finished' && e.taskToken === token));

export interface ChildAgent {
  child: ChildProcess;
  output: Recorder<string>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Structured log lines (the agent logs JSON on stdout). */
  logged(message: string): boolean;
}

/** The agent as a real process (bin/agent.ts, or the bundle), configured only through its environment, as on a worker instance. */
export function startChildAgent(
  sqsServer: LocalSqs,
  sfn: FakeStepFunctions,
  queues: TestQueues,
  settings: Record<string, string>,
  nodeArgs: readonly string[] = ['--import', 'tsx', 'bin/agent.ts'],
): ChildAgent {
  const child = spawn(process.execPath, nodeArgs, {
    cwd: new URL('../..', import.meta.url).pathname,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      AWS_REGION: LOCAL_SQS_REGION,
      AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_SQS: sqsServer.endpoint,
      AWS_ENDPOINT_URL_SFN: sfn.endpoint,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      FORGEFLOW_IDLE_WAIT_SECONDS: '1',
      FORGEFLOW_LIVENESS_INTERVAL_SECONDS: '0.3',
      FORGEFLOW_VISIBILITY_EXTENSION_SECONDS: '2',
      FORGEFLOW_KILL_GRACE_MS: '500',
      ...queues.env,
      ...settings,
    },
  });
  const output = new Recorder<string>();
  let pending = '';
  const onData = (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop()!;
    lines.forEach((line) => output.push(line));
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return {
    child,
    output,
    exit,
    logged: (message) =>
      output.items.some((line) => {
        try {
          return (JSON.parse(line) as { message?: string }).message === message;
        } catch {
          return false;
        }
      }),
  };
}

export interface Harness {
  sqsServer: LocalSqs;
  client: SQSClient;
  sfn: FakeStepFunctions;
  tempDir: string;
  /** Fresh queues, and a starter for in-process agents on them (drained after each test). */
  setup(overrides?: Partial<AgentConfig>, queueOptions?: Parameters<typeof createQueues>[1]): Promise<{ queues: TestQueues; start: (more?: Partial<AgentConfig>, startGate?: StartGate) => InProcessAgent }>;
  /** Agents started otherwise, to drain after the test. */
  agents: InProcessAgent[];
}

/** One fauxqs and one fake Step Functions per test file; every test makes its own queues. */
export function useAgentHarness(): Harness {
  const harness = { agents: [] as InProcessAgent[], tempDir: mkdtempSync(join(tmpdir(), 'forgeflow-agent-')) } as Harness;
  harness.setup = async (overrides = {}, queueOptions = {}) => {
    const queues = await createQueues(harness.sqsServer, queueOptions);
    const start = (more: Partial<AgentConfig> = {}, startGate?: StartGate) => {
      const agent = startInProcessAgent(harness.sqsServer, harness.sfn, testConfig(queues, { ...overrides, ...more }), undefined, startGate);
      harness.agents.push(agent);
      return agent;
    };
    return { queues, start };
  };
  beforeAll(async () => {
    harness.sqsServer = await startLocalSqs();
    harness.client = harness.sqsServer.client;
    harness.sfn = await startFakeStepFunctions();
  });
  // A stop waits out the agent's long polls (up to idleWaitSeconds, a second here). Each test has queues of its own,
  // so the next one starts meanwhile; the file waits for every stop, and sees any failure, at its end.
  const stopping: Promise<void>[] = [];
  afterEach(() => void stopping.push(...harness.agents.splice(0).map((a) => a.stop())));
  afterAll(async () => {
    await Promise.all(stopping);
    await harness.sfn?.close();
    await harness.sqsServer?.stop();
    rmSync(harness.tempDir, { recursive: true, force: true });
  });
  return harness;
}
