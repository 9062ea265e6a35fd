import { randomBytes } from 'node:crypto';
import { afterEach, beforeAll, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { GetCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import { DynamoJobStore } from '../../functions/adapters/dynamodb/job-store.ts';
import { slotKey } from '../../functions/adapters/dynamodb/job-counters.ts';
import { DynamoWaitingJobs } from '../../functions/adapters/dynamodb/waiting-jobs.ts';
import { AdmissionService } from '../../functions/core/admission.ts';
import { createWorkerReportsConsumer } from '../../functions/consumers/worker-reports/worker-reports.ts';
import type { EventEnvelope } from '../../functions/core/events.ts';
import type { Actor } from '../../functions/core/job-service.ts';
import { JobService } from '../../functions/core/job-service.ts';
import { JobSpecSchema, type JobRecord, type JobSpecInput } from '../../functions/core/job.ts';
import { systemClock } from '../../functions/core/ports.ts';
import { SagaService } from '../../functions/core/saga.ts';
import { DispatchMessageSchema, type DispatchMessage, type TaskFailureCause, type WorkerReport } from '../../functions/core/saga-messages.ts';
import type { QueueDefinition } from '../../functions/declarations/queues.ts';
import { JOB_SAGA, sagaExecutionName } from '../../functions/declarations/statemachines.ts';
import { createSagaSteps } from '../../functions/saga/steps.ts';
import { lambdaContext } from '../../local/lambda.ts';
import { LocalStepFunctionsEngine, type StepHandler } from '../../local/stepfunctions/engine.ts';
import { localStateMachineArn, type AslDefinition } from '../../local/stepfunctions/local-definition.ts';
import { TaskTokenRegistry } from '../../local/stepfunctions/token-registry.ts';
import { claimSpec } from '../../functions/core/claim-spec.ts';
import { forwardCarriedEvents } from '../support/job-stream.ts';
import { createTestTables } from '../support/dynamodb.ts';

export const SAGA_ARN = localStateMachineArn(JOB_SAGA.name);
export const loadSagaDefinition = (): AslDefinition => JSON.parse(readFileSync(JOB_SAGA.definitionPath, 'utf8')) as AslDefinition;

function sagaDefinition(options: RigOptions): AslDefinition {
  const definition = loadSagaDefinition();
  if (options.claimHeartbeatSeconds !== undefined) definition.States.ClaimJob!.HeartbeatSeconds = options.claimHeartbeatSeconds;
  return definition;
}
export const testQueueUrl = (queue: QueueDefinition) => `http://sqs.local/000000000000/${queue.name}`;

/** What the scripted worker does with one dispatch message. */
export type Behaviour =
  | { kind: 'succeed'; outputTail?: string }
  | { kind: 'fail'; error: string; cause: TaskFailureCause }
  /** Reports the start, then never answers (a hung or silent worker). */
  | { kind: 'silent' }
  /** Only records the message; the test drives the worker (reportStarted, succeed, fail). */
  | { kind: 'manual' };

/** A one-shot signal per key, so tests wait for what happened instead of sleeping. */
class Latches<T> {
  private readonly latches = new Map<string, { promise: Promise<T>; resolve: (value: T) => void }>();
  private get(key: string) {
    let latch = this.latches.get(key);
    if (!latch) {
      let resolve!: (value: T) => void;
      const promise = new Promise<T>((r) => (resolve = r));
      latch = { promise, resolve };
      this.latches.set(key, latch);
    }
    return latch;
  }
  wait = (key: string) => this.get(key).promise;
  open = (key: string, value: T) => this.get(key).resolve(value);
}

/**
 * A worker agent in miniature: it receives the dispatch messages ClaimJob sends, reports the start
 * through the real worker-reports consumer, and answers through the task token registry, as the local Step
 * Functions endpoint would for the real agent.
 */
export class FakeWorker {
  readonly received: { queueUrl: string; message: DispatchMessage }[] = [];
  readonly errors: unknown[] = [];
  private readonly scripts = new Map<string, Behaviour[]>();
  private readonly dispatched = new Latches<DispatchMessage>();
  private readonly startedLatches = new Latches<void>();

  constructor(
    private readonly registry: TaskTokenRegistry,
    private readonly report: (report: WorkerReport) => Promise<void>,
  ) {}

  script(jobId: string, ...behaviours: Behaviour[]): void {
    this.scripts.set(jobId, behaviours);
  }

  sendMessage = async (queueUrl: string, body: string): Promise<void> => {
    const message = DispatchMessageSchema.parse(JSON.parse(body));
    this.received.push({ queueUrl, message });
    const behaviour = this.scripts.get(message.jobId)?.shift() ?? { kind: 'succeed' };
    this.dispatched.open(`${message.jobId}#${message.attempt}`, message);
    // Like SQS: sending returns at once; the worker runs on its own.
    void this.act(message, behaviour).catch((error: unknown) => this.errors.push(error));
  };

  nextDispatch = (jobId: string, attempt = 1) => this.dispatched.wait(`${jobId}#${attempt}`);
  started = (jobId: string, attempt = 1) => this.startedLatches.wait(`${jobId}#${attempt}`);

  async reportStarted(message: DispatchMessage): Promise<void> {
    await this.report({ type: 'started', jobId: message.jobId, run: message.run, attempt: message.attempt, workerId: 'worker-1', startedAt: new Date().toISOString(), taskToken: message.taskToken });
    this.startedLatches.open(`${message.jobId}#${message.attempt}`, undefined);
  }

  succeed(message: DispatchMessage, outputTail = 'done\n'): void {
    const now = new Date().toISOString();
    // As the agent answers: the dispatch's attempt and facts handed back.
    const { attempt, facts } = message;
    this.registry.succeed(message.taskToken, { exitCode: 0, durationMs: 12, outputTail, workerId: 'worker-1', startedAt: now, finishedAt: now, attempt, ...(facts ? { facts } : {}) });
  }

  fail(message: DispatchMessage, error: string, cause: TaskFailureCause): void {
    this.registry.fail(message.taskToken, error, JSON.stringify(cause));
  }

  private async act(message: DispatchMessage, behaviour: Behaviour): Promise<void> {
    if (behaviour.kind === 'manual') return;
    await this.reportStarted(message);
    if (behaviour.kind === 'succeed') this.succeed(message, behaviour.outputTail);
    if (behaviour.kind === 'fail') this.fail(message, behaviour.error, behaviour.cause);
  }
}

export interface RigOptions {
  slotLimit?: number;
  baseSeconds?: number;
  capSeconds?: number;
  /** Backoff jitter; 0 makes every backoff Wait 0 s. */
  random?: () => number;
  waitScale?: number;
  retryIntervalOverrides?: Record<string, number | number[]>;
  /** Replace the real step handlers (e.g. the Lambda entry modules). */
  handlers?: Record<string, StepHandler>;
  /** ClaimJob's HeartbeatSeconds in place of the ASL's (the grace, 6 hours), for a path that waits it out. */
  claimHeartbeatSeconds?: number;
  /** Wrap the real step handlers (fault injection into one step). */
  wrapSteps?: (steps: Record<string, StepHandler>) => Record<string, StepHandler>;
}

/** Tables once per file; a rig per test, with its own tenant so slot counts never mix. */
export async function createSagaTestbed() {
  const tables = await createTestTables();
  const store = new DynamoJobStore(tables.documentClient, tables.tableNames);
  const jobs = new JobService({ store, clock: systemClock });

  const outbox = async (jobId: string): Promise<EventEnvelope[]> => {
    await forwardCarriedEvents(tables);
    const { Items = [] } = await tables.documentClient.send(new ScanCommand({ TableName: tables.tableNames.outbox, ConsistentRead: true }));
    return Items.filter((item) => item.subject === jobId)
      .sort((a, b) => (a.eventId < b.eventId ? -1 : 1))
      .map((item) => JSON.parse(item.envelope as string) as EventEnvelope);
  };

  const rig = (options: RigOptions = {}) => {
    const actor: Actor = { sub: 'alice', tenantId: `tenant-${randomBytes(4).toString('hex')}`, groups: [] };
    const saga = new SagaService({
      store,
      clock: systemClock,
      queueUrl: testQueueUrl,
      tenantSlotLimit: () => options.slotLimit ?? 5,
      retryPolicy: { baseSeconds: options.baseSeconds ?? 1, capSeconds: options.capSeconds ?? 60 },
      random: options.random ?? (() => 0),
      dispatchGraceSeconds: 0,
    });
    const registry = new TaskTokenRegistry();
    // Admission as the admission consumer does it, its wake through the registry as the local endpoint answers it.
    const admission = new AdmissionService({
      store,
      waiting: new DynamoWaitingJobs(tables.documentClient, { waiting: tables.tableNames.waitingJobs, counters: tables.tableNames.counters }),
      tenantSlotLimit: () => options.slotLimit ?? 5,
      waits: {
        wake: async (token) => {
          try {
            registry.succeed(token, {});
            return 'woken';
          } catch {
            return 'over';
          }
        },
      },
    });
    const consumer = createWorkerReportsConsumer({
      saga,
      failTask: async (token, error, cause) => registry.fail(token, error, cause),
      logger: new Logger({ logLevel: 'SILENT' }),
      metrics: new Metrics({ namespace: 'ForgeflowTest' }),
    });
    const report = async (workerReport: WorkerReport) => {
      const event = { Records: [{ messageId: randomBytes(8).toString('hex'), body: JSON.stringify(workerReport) }] } as SQSEvent;
      const response = await consumer(event, lambdaContext('forgeflow-worker-reports', 30_000));
      if (response.batchItemFailures.length > 0) throw new Error(`worker report failed: ${JSON.stringify(response)}`);
    };
    const worker = new FakeWorker(registry, report);
    const dispatch = { send: (queueUrl: string, message: DispatchMessage) => worker.sendMessage(queueUrl, JSON.stringify(message)) };
    const engine = new LocalStepFunctionsEngine({
      stateMachines: [{ arn: SAGA_ARN, definition: sagaDefinition(options), handlers: options.handlers ?? (options.wrapSteps ?? ((steps) => steps))(createSagaSteps(saga, { admission, dispatch })) }],
      sendMessage: worker.sendMessage,
      registry,
      ...(options.waitScale === undefined ? {} : { waitScale: options.waitScale }),
      ...(options.retryIntervalOverrides ? { retryIntervalOverrides: options.retryIntervalOverrides } : {}),
    });

    const submit = async (spec: JobSpecInput = { command: 'echo hi' }): Promise<string> =>
      (await jobs.submit(actor, JobSpecSchema.parse(spec), undefined, 'test')).job.jobId;
    // Started as the API starts a run: with the job's spec, so the first claim needs no read.
    const startSaga = async (jobId: string, run = 1) => {
      const spec = claimSpec((await store.get(jobId))!);
      return (await engine.startExecution({ stateMachineArn: SAGA_ARN, name: sagaExecutionName(jobId, run), input: JSON.stringify({ jobId, run, spec }) })).executionArn;
    };
    return {
      actor, saga, engine, worker, report, submit, startSaga, admission,
      /** What the admission consumer does for one freed slot of this rig's tenant. */
      admitOne: () => admission.admit(actor.tenantId, 1),
      /** Starts the saga for run 1 and waits until the execution has settled. */
      run: async (jobId: string) => engine.waitForExecution(await startSaga(jobId)),
      job: async (jobId: string) => (await store.get(jobId)) as JobRecord,
      eventTypes: async (jobId: string) => (await outbox(jobId)).map((event) => event.type),
      slotsInUse: () => store.slotsInUse(actor.tenantId),
    };
  };
  /** The tenant's parked runs, in admission order. */
  const waiting = async (tenantId: string) =>
    (await tables.documentClient.send(new QueryCommand({ TableName: tables.tableNames.waitingJobs, KeyConditionExpression: 'tenantId = :t', ExpressionAttributeValues: { ':t': tenantId }, ConsistentRead: true }))).Items ?? [];

  /** How many parked runs the tenant's slot item counts (what a release's `admitNext` is decided from). */
  const parkedCount = async (tenantId: string) =>
    ((await tables.documentClient.send(new GetCommand({ TableName: tables.tableNames.counters, Key: slotKey(tenantId), ConsistentRead: true }))).Item?.parked as number | undefined) ?? 0;
  /** `admitNext` of the job's last event. */
  const admitNext = async (jobId: string) => ((await outbox(jobId)).at(-1)!.data as { admitNext?: boolean }).admitNext;

  return { tables, store, jobs, outbox, rig, waiting, parkedCount, admitNext };
}

type Testbed = Awaited<ReturnType<typeof createSagaTestbed>>;
type Rig = ReturnType<Testbed['rig']>;

/**
 * A file's testbed, and after each test the checks every saga path keeps: the rig's engine closed, the tenant's
 * slots all given back, no task left waiting for an answer, and no error in the scripted worker.
 */
export function useSagaTestbed() {
  const state: { testbed?: Testbed; rig?: Rig } = {};
  beforeAll(async () => {
    state.testbed = await createSagaTestbed();
  });
  afterEach(async () => {
    const rig = state.rig;
    state.rig = undefined;
    if (!rig) return;
    await rig.engine.close();
    expect(await rig.slotsInUse()).toBe(0);
    expect(rig.engine.registry.size).toBe(0);
    expect(rig.worker.errors).toEqual([]);
  });
  return {
    testbed: () => state.testbed!,
    rig: (options?: RigOptions) => (state.rig = state.testbed!.rig(options)),
  };
}
