import { StateMachine, type RunOptions } from 'aws-local-stepfunctions';
import { InMemoryTokenBucket, type BucketConfig } from '../../functions/core/token-bucket.ts';
import { canonicalJson } from '../../functions/core/ids.ts';
import { ServiceError } from '../json-protocol-server.ts';
import { ClosedExecutionRetention, DEFAULT_CLOSED_EXECUTION_LIMITS, type ClosedExecutionLimits } from './closed-executions.ts';
import { prepareLocalDefinition, TASK_TOKEN_PLACEHOLDER, type AslDefinition, type LocalDefinition, type LocalTask } from './local-definition.ts';
import { dispatchWithTaskToken, invokeWithTaskToken, lambdaBoundary, scaledWait } from './local-tasks.ts';
import { installPromiseWithResolvers } from './polyfill.ts';
import { TaskTokenRegistry } from './token-registry.ts';
import { executionArnOf, type LocalStepFunctions } from './types.ts';

installPromiseWithResolvers();

/** A Lambda step run in-process: JSON in, JSON out; a thrown error's `name` is what Retry and Catch match. */
export type StepHandler = (input: unknown) => Promise<unknown>;

export interface LocalStateMachine {
  arn: string;
  /** The definition as deployed, `${<Name>FunctionArn}` placeholders included. */
  definition: AslDefinition;
  /** `<Name>` → handler, for every `${<Name>FunctionArn}` of the definition. */
  handlers: Readonly<Record<string, StepHandler>>;
}

export interface LocalEngineOptions {
  stateMachines: readonly LocalStateMachine[];
  /** Where `sqs:sendMessage.waitForTaskToken` states send their message (the local SQS, or a test's fake worker). */
  sendMessage(queueUrl: string, body: string): Promise<void>;
  registry?: TaskTokenRegistry;
  /**
   * Off unless set: StartExecution calls beyond this bucket are refused with ThrottlingException, as AWS refuses a
   * burst over the account's bucket, so what the platform does with a throttled start can be exercised locally.
   */
  startExecutionRate?: BucketConfig;
  /** The clock of the startExecutionRate bucket, in epoch ms (tests: a fake one). */
  now?: () => number;
  /** Multiplies Wait durations (tests: 0.01); 1, the default, runs Wait states unchanged. */
  waitScale?: number;
  /** Per state, the pause before a retry in ms (the library's retryIntervalOverrides). */
  retryIntervalOverrides?: Record<string, number | number[]>;
  /** Told of every execution that ends, as EventBridge is told by "Step Functions Execution Status Change". */
  onExecutionEnded?: (execution: ExecutionDescription) => void;
  /** How many closed executions keep their details, and how many more their names (closed-executions.ts). */
  closedExecutions?: ClosedExecutionLimits;
}

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface ExecutionDescription {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: ExecutionStatus;
  input: string;
  output?: string;
  error?: string;
  cause?: string;
  startDate: Date;
  stopDate?: Date;
}

export interface HistoryEvent {
  type: 'StateEntered' | 'StateExited' | 'StateRetried' | 'StateCaught' | 'StateFailed';
  state: string;
  stateType: string;
  output?: unknown;
  error?: string;
}

interface Execution {
  description: ExecutionDescription;
  inputKey: string;
  history: HistoryEvent[];
  /** States entered plus retries: what a Standard workflow bills as state transitions. */
  transitions: number;
  /** Tells our handlers (dispatch, scaled waits) that the execution was stopped. */
  controller: AbortController;
  abortLibrary(): void;
  inFlight: number;
  /** True once `done` has settled. */
  settled: boolean;
  /** Settles once the result is in, the history is complete and no handler runs any more. */
  done: Promise<void>;
  listeners: Set<() => void>;
}

const NAME_PATTERN = /^[A-Za-z0-9_-]{1,80}$/;
/** Step Functions' limit on a state's input or output (Standard and Express alike), as UTF-8 bytes of its JSON. */
export const STATE_PAYLOAD_LIMIT_BYTES = 256 * 1024;

/**
 * Step Functions for the local runtime and the tests: runs the repository's ASL with aws-local-stepfunctions,
 * Lambda steps in-process, `.waitForTaskToken` through the TaskTokenRegistry. Executions run concurrently.
 */
export class LocalStepFunctionsEngine implements LocalStepFunctions {
  readonly registry: TaskTokenRegistry;
  private readonly machines = new Map<string, { source: LocalStateMachine; local: LocalDefinition; machine: StateMachine }>();
  private readonly executions = new Map<string, Execution>();
  private readonly startBucket?: InMemoryTokenBucket;
  private readonly retention: ClosedExecutionRetention;

  constructor(private readonly options: LocalEngineOptions) {
    this.registry = options.registry ?? new TaskTokenRegistry();
    this.retention = new ClosedExecutionRetention(options.closedExecutions ?? DEFAULT_CLOSED_EXECUTION_LIMITS, (arn) => this.executions.delete(arn));
    if (options.startExecutionRate) this.startBucket = new InMemoryTokenBucket(options.startExecutionRate, { now: options.now });
    const scale = options.waitScale ?? 1;
    if (!(scale >= 0)) throw new RangeError('waitScale must be zero or more');
    for (const source of options.stateMachines) {
      const local = prepareLocalDefinition(source.definition, { handlers: Object.keys(source.handlers), scaleWaits: scale !== 1 });
      const machine = new StateMachine(local.definition as ConstructorParameters<typeof StateMachine>[0]);
      this.machines.set(source.arn, { source, local, machine });
    }
  }

  async startExecution(input: { stateMachineArn: string; name: string; input: string }): Promise<{ executionArn: string; startDate: Date }> {
    // AWS meters calls, not executions: every call spends a token, an idempotent repeat or an invalid one included.
    if (this.startBucket && !(await this.startBucket.take('StartExecution')).granted) throw new ServiceError('ThrottlingException', 'Rate exceeded');
    const entry = this.machines.get(input.stateMachineArn);
    if (!entry) throw new ServiceError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${input.stateMachineArn}'`);
    if (!NAME_PATTERN.test(input.name)) throw new ServiceError('InvalidName', `Invalid Name: '${input.name}'`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(input.input);
    } catch {
      throw new ServiceError('InvalidExecutionInput', 'Invalid State Machine Execution Input: not JSON');
    }
    const executionArn = executionArnOf(input.stateMachineArn, input.name);
    const inputKey = canonicalJson(parsed);
    const existing = this.executions.get(executionArn);
    // As in AWS: the same name and input as a running execution is that execution (the saga starter may start a run
    // twice, delivery being at least once); other input, or a closed execution whatever its input, is refused.
    if (existing?.description.status === 'RUNNING' && existing.inputKey === inputKey) return { executionArn, startDate: existing.description.startDate };
    if (existing || this.retention.nameHeld(executionArn)) throw new ServiceError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    const startDate = new Date();
    const execution: Execution = {
      description: { executionArn, stateMachineArn: input.stateMachineArn, name: input.name, status: 'RUNNING', input: input.input, startDate },
      inputKey,
      history: [],
      transitions: 0,
      controller: new AbortController(),
      // Both set once the run has started, below.
      abortLibrary: () => undefined,
      done: Promise.resolve(),
      inFlight: 0,
      settled: false,
      listeners: new Set(),
    };
    this.executions.set(executionArn, execution);

    const context = {
      Execution: { Id: executionArn, Name: input.name },
      StateMachine: { Id: input.stateMachineArn, Name: input.stateMachineArn.split(':').pop() },
      // A plain placeholder, never a getter (which would mint a token per reference, docs/architecture.md): the dispatch
      // task mints the one token of each attempt and puts it where the placeholder landed.
      Task: { Token: TASK_TOKEN_PLACEHOLDER },
    };
    const run = entry.machine.run(parsed as never, {
      overrides: { taskResourceLocalHandlers: this.taskHandlers(execution, entry.source, entry.local.tasks), retryIntervalOverrides: this.options.retryIntervalOverrides },
      noThrowOnAbort: true,
      context,
    });
    execution.abortLibrary = run.abort;
    const result = run.result.then(
      (output) => this.finish(execution, { status: 'SUCCEEDED', output: JSON.stringify(output) }),
      (error: Error) => {
        const caught = (error.cause as Error | undefined) ?? error;
        this.finish(execution, { status: error.name === 'ExecutionTimeoutError' ? 'TIMED_OUT' : 'FAILED', error: caught.name, cause: caught.message });
      },
    );
    const history = this.record(execution, run.eventLogs as AsyncIterable<LibraryEvent>, entry.local.stateTypes);
    execution.done = Promise.all([result, history])
      .then(() => this.idle(execution))
      .finally(() => {
        this.registry.abandonExecution(executionArn);
        execution.settled = true;
        this.notify(execution);
        this.retention.closed(executionArn);
      });
    return { executionArn, startDate };
  }

  async stopExecution(input: { executionArn: string; error?: string; cause?: string }): Promise<{ stopDate: Date }> {
    const execution = this.get(input.executionArn);
    if (execution.description.status === 'RUNNING') {
      this.finish(execution, { status: 'ABORTED', ...(input.error ? { error: input.error } : {}), ...(input.cause ? { cause: input.cause } : {}) });
      // Our handlers first (a waiting dispatch, a scaled wait), then the library; then the tokens, which settles any
      // task still awaiting one, and with it the library's timeout timer for that task.
      execution.controller.abort();
      execution.abortLibrary();
      this.registry.abandonExecution(input.executionArn);
    }
    return { stopDate: execution.description.stopDate ?? new Date() };
  }

  /** Strings only, so the JSON-protocol endpoint can return it as is (the SDK reads dates as epoch seconds). */
  async describeExecution(executionArn: string): Promise<Omit<ExecutionDescription, 'startDate' | 'stopDate'> | undefined> {
    const execution = this.executions.get(executionArn);
    if (!execution) return undefined;
    const { startDate: _start, stopDate: _stop, ...description } = execution.description;
    return description;
  }

  /** The execution's history so far, oldest first (GetExecutionHistory's subset that the platform reads). */
  async executionHistory(executionArn: string): Promise<readonly HistoryEvent[]> {
    return [...this.get(executionArn).history];
  }

  /** Resolves when the execution has ended, its history is complete and none of its handlers is still running. */
  async waitForExecution(executionArn: string): Promise<ExecutionDescription> {
    await this.get(executionArn).done;
    return { ...this.get(executionArn).description };
  }

  /** Resolves when the execution has entered `state` `occurrence` times; rejects if it ends first. */
  waitForState(executionArn: string, state: string, occurrence = 1): Promise<void> {
    const execution = this.get(executionArn);
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.entered(execution).filter((name) => name === state).length >= occurrence) {
          execution.listeners.delete(check);
          resolve();
        } else if (execution.settled) {
          execution.listeners.delete(check);
          reject(new Error(`Execution ${execution.description.name} ended (${execution.description.status}) before entering ${state}`));
        }
      };
      execution.listeners.add(check);
      check();
    });
  }

  history(executionArn: string): { events: HistoryEvent[]; enteredStates: string[]; transitions: number } {
    const execution = this.get(executionArn);
    return { events: [...execution.history], enteredStates: this.entered(execution), transitions: execution.transitions };
  }

  /** Stops every running execution and waits for all of them to settle. */
  async close(): Promise<void> {
    for (const [executionArn] of this.executions) await this.stopExecution({ executionArn, error: 'EngineClosed' });
    await Promise.all([...this.executions.values()].map((execution) => execution.done));
  }

  private taskHandlers(execution: Execution, source: LocalStateMachine, tasks: LocalTask[]) {
    type Handlers = NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']>;
    const handlers: Handlers = {};
    const { signal } = execution.controller;
    for (const task of tasks) {
      const tokenContext = { registry: this.registry, executionArn: execution.description.executionArn, stateName: task.state, signal };
      const run: StepHandler =
        task.kind === 'function' ? lambdaBoundary(source.handlers[task.handler]!)
        : task.kind === 'wait' ? (input) => scaledWait(input, this.options.waitScale ?? 1, signal)
        : task.kind === 'lambda-wait-for-token' ? (input) => invokeWithTaskToken(input, source.handlers[task.handler]!, tokenContext)
        : (input) =>
            dispatchWithTaskToken(input, { ...tokenContext, sendMessage: this.options.sendMessage });
      handlers[task.state] = async (input) => {
        // After a stop, the library may still retry a failed state: nothing new starts, as in AWS.
        if (signal.aborted) throw Object.assign(new Error('The execution was stopped'), { name: 'ExecutionAborted' });
        execution.inFlight += 1;
        try {
          return (await run(input)) as never;
        } finally {
          execution.inFlight -= 1;
          this.notify(execution);
        }
      };
    }
    return handlers;
  }

  private async record(execution: Execution, events: AsyncIterable<LibraryEvent>, stateTypes: Record<string, string>): Promise<void> {
    for await (const event of events) {
      if (!event.state || !HISTORY_TYPES.has(event.type)) continue;
      const entry: HistoryEvent = { type: event.type as HistoryEvent['type'], state: event.state.name, stateType: stateTypes[event.state.name] ?? event.state.type };
      if (event.type === 'StateExited') {
        entry.output = event.state.output;
        const bytes = Buffer.byteLength(JSON.stringify(event.state.output ?? null));
        if (bytes > STATE_PAYLOAD_LIMIT_BYTES) this.dataLimitExceeded(execution, event.state.name, bytes);
      }
      if (event.type === 'StateFailed') entry.error = event.Error;
      if (event.type === 'StateEntered' || event.type === 'StateRetried') execution.transitions += 1;
      execution.history.push(entry);
      this.notify(execution);
    }
  }

  /**
   * As in AWS: a state whose output exceeds the limit fails the execution with States.DataLimitExceeded, which no
   * Catch can handle, whatever the definition says.
   */
  private dataLimitExceeded(execution: Execution, state: string, bytes: number): void {
    if (execution.description.status !== 'RUNNING') return;
    this.finish(execution, {
      status: 'FAILED',
      error: 'States.DataLimitExceeded',
      cause: `The state/task '${state}' returned a result with a size exceeding the maximum number of bytes service limit (${bytes} > ${STATE_PAYLOAD_LIMIT_BYTES}).`,
    });
    execution.controller.abort();
    execution.abortLibrary();
    this.registry.abandonExecution(execution.description.executionArn);
  }

  private finish(execution: Execution, outcome: Pick<ExecutionDescription, 'status' | 'output' | 'error' | 'cause'>): void {
    if (execution.description.status !== 'RUNNING') return;
    Object.assign(execution.description, outcome, { stopDate: new Date() });
    this.notify(execution);
    this.options.onExecutionEnded?.({ ...execution.description });
  }

  private idle(execution: Execution): Promise<void> {
    if (execution.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (execution.inFlight > 0) return;
        execution.listeners.delete(check);
        resolve();
      };
      execution.listeners.add(check);
    });
  }

  private entered(execution: Execution): string[] {
    return execution.history.filter((event) => event.type === 'StateEntered').map((event) => event.state);
  }

  private notify(execution: Execution): void {
    for (const listener of [...execution.listeners]) listener();
  }

  private get(executionArn: string): Execution {
    const execution = this.executions.get(executionArn);
    if (!execution) throw new ServiceError('ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
    return execution;
  }
}

interface LibraryEvent {
  type: string;
  state?: { name: string; type: string; output?: unknown };
  Error?: string;
}

const HISTORY_TYPES = new Set(['StateEntered', 'StateExited', 'StateRetried', 'StateCaught', 'StateFailed']);
