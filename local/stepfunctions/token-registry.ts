import { randomBytes } from 'node:crypto';
import { RecentSet } from './recent-set.ts';

/**
 * Task tokens for `.waitForTaskToken` states in the local runtime. aws-local-stepfunctions has no task-token API,
 * so the runtime mints tokens here, the waiting Task awaits `result`, and the local Step Functions endpoint turns
 * SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat calls into `succeed` / `fail` / `heartbeat`.
 */
export class TaskTokenError extends Error {
  /** Same names as the Step Functions exceptions, so the SDK client on the other side gets typed errors. */
  constructor(
    readonly type: 'TaskDoesNotExist' | 'TaskTimedOut' | 'InvalidToken',
    message: string,
  ) {
    super(message);
    this.name = type;
  }
}

/** A failure reported with SendTaskFailure: `name` is the error ASL `Catch`/`Retry` match on. */
export class TaskFailedError extends Error {
  constructor(
    error: string,
    readonly causeText: string,
  ) {
    super(causeText || error);
    this.name = error;
  }
}

interface PendingTask {
  executionArn: string;
  stateName: string;
  resolve(output: unknown): void;
  reject(error: Error): void;
  lastHeartbeat: number;
}

const TOKEN_PATTERN = /^[A-Za-z0-9_-]{20,1024}$/;

/**
 * Answered and abandoned tokens remembered, so that a late answer gets TaskTimedOut as in AWS: every token a
 * long-running runtime ever minted was kept. Older ones answer TaskDoesNotExist, which agents treat the same way
 * (the task is no longer theirs); about 100 B each.
 */
export const FINISHED_TOKENS_REMEMBERED = 100_000;

export class TaskTokenRegistry {
  private readonly pending = new Map<string, PendingTask>();
  /** Tokens that were answered or abandoned: using them again is TaskTimedOut, as in AWS. */
  private readonly finished: RecentSet<string>;
  /** Pending tokens by execution: every execution's end looks up its own, not every pending task in the runtime. */
  private readonly byExecution = new Map<string, Set<string>>();

  constructor(
    private readonly now: () => number = Date.now,
    finishedRemembered = FINISHED_TOKENS_REMEMBERED,
  ) {
    this.finished = new RecentSet(finishedRemembered);
  }

  register(meta: { executionArn: string; stateName: string }): { token: string; result: Promise<unknown> } {
    const token = `fftok_${randomBytes(24).toString('base64url')}`;
    let resolve!: (output: unknown) => void;
    let reject!: (error: Error) => void;
    const result = new Promise<unknown>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.pending.set(token, { ...meta, resolve, reject, lastHeartbeat: this.now() });
    const tokens = this.byExecution.get(meta.executionArn);
    if (tokens) tokens.add(token);
    else this.byExecution.set(meta.executionArn, new Set([token]));
    return { token, result };
  }

  succeed(token: string, output: unknown): void {
    this.take(token).resolve(output);
  }

  fail(token: string, error: string, cause: string): void {
    this.take(token).reject(new TaskFailedError(error, cause));
  }

  heartbeat(token: string): void {
    const task = this.lookup(token);
    task.lastHeartbeat = this.now();
  }

  /** Milliseconds since the task began or was last heartbeaten; undefined once it is no longer pending. */
  sinceHeartbeat(token: string): number | undefined {
    const task = this.pending.get(token);
    return task && this.now() - task.lastHeartbeat;
  }

  /** Ends every task of a stopped or finished execution; their tokens answer TaskTimedOut from now on. */
  abandonExecution(executionArn: string): void {
    const tokens = this.byExecution.get(executionArn);
    if (!tokens) return;
    // One reason for the execution's tasks, made only when it has some: most end with none pending.
    const reason = new Error('Execution stopped');
    for (const token of tokens) this.end(token)?.reject(reason);
  }

  /** Ends one task without an answer (the state's own timeout fired). */
  abandon(token: string, reason: Error): void {
    this.end(token)?.reject(reason);
  }

  get size(): number {
    return this.pending.size;
  }

  private lookup(token: string): PendingTask {
    if (!TOKEN_PATTERN.test(token)) throw new TaskTokenError('InvalidToken', 'Invalid Token');
    const task = this.pending.get(token);
    if (task) return task;
    if (this.finished.has(token)) throw new TaskTokenError('TaskTimedOut', 'Task Timed Out');
    throw new TaskTokenError('TaskDoesNotExist', 'Task does not exist anymore');
  }

  private take(token: string): PendingTask {
    const task = this.lookup(token);
    this.end(token);
    return task;
  }

  /** Moves a pending token to the finished ones; returns its task, or undefined if it was not pending. */
  private end(token: string): PendingTask | undefined {
    const task = this.pending.get(token);
    if (!task) return undefined;
    this.pending.delete(token);
    this.finished.add(token);
    const tokens = this.byExecution.get(task.executionArn);
    tokens?.delete(token);
    if (tokens?.size === 0) this.byExecution.delete(task.executionArn);
    return task;
  }
}
