import { spawn, type ChildProcess } from 'node:child_process';
import { homedir } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { JobCommand } from '../functions/core/job-command.ts';
import { describeSpawnError, invocationOf, notRunExitCode, SHELL, type Invocation, type SpawnErrorInfo } from './job-invocation.ts';
import { DEFAULT_OUTPUT_TAIL_BYTES, OutputTail } from './output-tail.ts';
import { groupHasLiveMembers } from './process-group.ts';
import { createWorkDir, removeWorkDir } from './work-dir.ts';

// Moved out to keep this file short; callers know them from here.
export { groupHasLiveMembers, SHELL, type SpawnErrorInfo };

/**
 * Runs ONE job process for the worker agent.
 *
 * A shell snippet runs as `/bin/sh -c <command> sh <args...>`, a command array as its program with no shell
 * (job-invocation.ts); either way in its own session and process group (`detached: true`), so that stopping it
 * means signalling the whole group (`kill(-pgid)`), grandchildren included. The group is also cleaned up when the
 * job's process exits normally: a job must not leave processes behind on a shared worker.
 *
 * The promise resolves with the outcome, whatever happened to the job; it only rejects for invalid options.
 * It resolves once the process has exited, its output pipes are drained and the group is gone (or SIGKILLed), so no
 * timer, listener or pipe outlives it. Two bounds keep it from hanging: SIGKILL after `killGraceMs`, and, for a
 * process that escaped the group (setsid) while holding the pipes, the pipes are closed `killGraceMs` after exit.
 *
 * With `user`, the job runs as that user (the agent must be root) in a fresh directory, also its HOME, removed
 * afterwards. Given uid or gid, libuv calls setgroups(0, NULL) before setgid/setuid: none of root's supplementary
 * groups reach the job, nor the user's own (no initgroups). Both ids are passed: the uid alone would keep gid 0.
 *
 * Limits: a process that calls setsid() leaves the group and cannot be reached (cgroups would be needed); orphans
 * are reaped by PID 1, so in a container run the agent under an init (tini, `docker run --init`).
 */
export const DEFAULT_KILL_GRACE_MS = 5000;
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** setTimeout fires at once (with a warning) above 2^31-1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface RunJobProcessOptions {
  /** A shell snippet, or a program and its arguments (run with no shell). */
  command: JobCommand;
  /** A snippet's positional parameters `$1…$n`; a command array takes none (the promise rejects). */
  args?: readonly string[];
  env?: Readonly<Record<string, string>>;
  timeoutSeconds: number;
  killGraceMs?: number;
  cwd?: string;
  /** Aborting cancels the job: SIGTERM to its group, SIGKILL after the grace period. */
  signal?: AbortSignal;
  outputTailBytes?: number;
  /** Sees every output chunk as it arrives (e.g. to stream logs). Must not throw. */
  onOutput?: (chunk: Buffer, stream: 'stdout' | 'stderr') => void;
  /**
   * Run the job as this user, in its own working directory. `home` is the user's passwd entry, deliberately not
   * used as HOME: a home shared by every job would carry one tenant's files into the next one's run.
   */
  user?: { uid: number; gid: number; home: string };
  /** Told when a job's working directory could not be removed; the outcome is unaffected. */
  onCleanupError?: (error: Error, dir: string) => void;
}

export interface JobProcessOutcome {
  /**
   * The process's exit code; null when it was killed by a signal or never started, except for a command array's
   * program that could not be run: 127 (not found) or 126 (not executable), as a shell would say.
   */
  exitCode: number | null;
  signal: string | null;
  /** Wall time from spawn until the run was over: exited, output drained, left-behind processes gone. */
  durationMs: number;
  outputTail: string;
  /** Total bytes the job printed (the tail keeps only the last ones). */
  outputBytes: number;
  timedOut: boolean;
  cancelled: boolean;
  /** SIGKILL had to be sent to the group because it outlived the grace period. */
  killEscalated: boolean;
  spawnError?: SpawnErrorInfo;
  /** The job process's pid, which is also its process group id; null when nothing was spawned. */
  pid: number | null;
  timeoutSeconds: number;
}

/**
 * The base environment: only what a command needs to run, never the agent's own (it may hold credentials).
 * `home` replaces the agent's HOME, which a job running as another user has no business knowing or using.
 */
export function baseEnv(home?: string): Record<string, string> {
  return { PATH: process.env.PATH || DEFAULT_PATH, HOME: home ?? (process.env.HOME || homedir()), LANG: process.env.LANG || 'C.UTF-8' };
}

export function runJobProcess(options: RunJobProcessOptions): Promise<JobProcessOutcome> {
  const { timeoutSeconds, killGraceMs = DEFAULT_KILL_GRACE_MS, user } = options;
  if (!(timeoutSeconds > 0) || !Number.isFinite(timeoutSeconds)) return Promise.reject(new RangeError(`timeoutSeconds must be a positive number, got ${timeoutSeconds}`));
  if (!(killGraceMs >= 0) || killGraceMs > MAX_TIMER_MS) return Promise.reject(new RangeError(`killGraceMs must be between 0 and ${MAX_TIMER_MS}, got ${killGraceMs}`));
  let invocation: Invocation;
  try {
    invocation = invocationOf(options.command, options.args);
  } catch (error) {
    return Promise.reject(error as RangeError);
  }
  if (!user || options.signal?.aborted) return runProcess(options, invocation, baseEnv());
  return runAsUser(options, invocation, user);
}

/** Around runProcess: the job's own directory is made before and removed after, whatever happened in between. */
async function runAsUser(options: RunJobProcessOptions, invocation: Invocation, user: NonNullable<RunJobProcessOptions['user']>): Promise<JobProcessOutcome> {
  let workDir: string;
  try {
    workDir = await createWorkDir(user);
  } catch (error) {
    // The worker's disk or temp directory is the problem, not the job: an unknown code categorizes as retryable.
    const message = `the job's working directory could not be created: ${(error as Error).message}`;
    return { ...notStarted(options.timeoutSeconds), durationMs: 0, spawnError: { code: 'WORK_DIR_FAILED', message } };
  }
  try {
    return await runProcess({ ...options, cwd: options.cwd ?? workDir }, invocation, baseEnv(workDir));
  } finally {
    await removeWorkDir(workDir, user).catch((error: unknown) => {
      try {
        (options.onCleanupError ?? warnCleanup)(error as Error, workDir);
      } catch {
        // An observer's failure must not turn a finished job into a crash.
      }
    });
  }
}

function warnCleanup(error: Error, dir: string): void {
  process.emitWarning(`job working directory ${dir} was not removed: ${error.message}`);
}

function notStarted(timeoutSeconds: number) {
  return { timeoutSeconds, outputTail: '', outputBytes: 0, exitCode: null, signal: null, timedOut: false, cancelled: false, killEscalated: false, pid: null };
}

function runProcess(options: RunJobProcessOptions, invocation: Invocation, env: Record<string, string>): Promise<JobProcessOutcome> {
  const { timeoutSeconds, killGraceMs = DEFAULT_KILL_GRACE_MS, cwd, signal, user } = options;
  const startedAt = performance.now();
  const tail = new OutputTail(options.outputTailBytes ?? DEFAULT_OUTPUT_TAIL_BYTES);
  const base = notStarted(timeoutSeconds);
  const elapsed = () => Math.round(performance.now() - startedAt);
  if (signal?.aborted) return Promise.resolve({ ...base, cancelled: true, durationMs: 0 });

  const jobEnv = { ...env, ...options.env };
  // A command array's program is looked up on this PATH, as a shell would (Node uses the child's env.PATH).
  const spawnErrorOf = (error: unknown) => describeSpawnError(error, cwd, invocation, jobEnv.PATH);
  let child: ChildProcess;
  try {
    child = spawn(invocation.file, invocation.args, {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: jobEnv,
      cwd,
      ...(user ? { uid: user.uid, gid: user.gid } : {}),
    });
  } catch (error) {
    // Node throws synchronously for some failures (ENOTDIR, E2BIG, ENOMEM, NUL bytes in arguments).
    const spawnError = spawnErrorOf(error);
    return Promise.resolve({ ...base, exitCode: notRunExitCode(spawnError), durationMs: elapsed(), spawnError });
  }

  return new Promise<JobProcessOutcome>((resolve) => {
    // Null when Node gave up before creating the pipes (EMFILE, ENFILE): the 'error' event follows on next tick.
    const pipes = [
      { stream: child.stdout, name: 'stdout' as const },
      { stream: child.stderr, name: 'stderr' as const },
    ];
    let openPipes = 0;
    let exit: { code: number | null; signal: string | null } | undefined;
    let spawnError: SpawnErrorInfo | undefined;
    let stopReason: 'timeout' | 'cancel' | 'cleanup' | undefined;
    let killEscalated = false;
    let groupGone = false;
    let done = false;
    let killTimer: NodeJS.Timeout | undefined;
    let pollTimer: NodeJS.Timeout | undefined;
    let drainTimer: NodeJS.Timeout | undefined;
    let pollDelay = 10;
    const pid = child.pid;

    /** Signals the whole group. Once the group is observed empty it is never signalled again (pid reuse). */
    const signalGroup = (sig: NodeJS.Signals | 0): boolean => {
      if (groupGone || pid === undefined) return false;
      try {
        process.kill(-pid, sig);
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ESRCH') groupGone = true;
        return false;
      }
    };

    const stop = (reason: NonNullable<typeof stopReason>) => {
      if (stopReason || done) return;
      if (!signalGroup('SIGTERM') && groupGone) return;
      stopReason = reason;
      killTimer = setTimeout(() => {
        killEscalated = signalGroup('SIGKILL') || killEscalated;
        groupGone = true; // SIGKILL cannot be caught: stop waiting for the group, only for the pipes.
        check();
      }, killGraceMs);
    };

    const onTimeout = () => stop('timeout');
    const onAbort = () => {
      if (!exit) stop('cancel'); // After the job's process exited the result stands; the cleanup already runs.
    };
    const timeoutTimer = setTimeout(onTimeout, Math.min(timeoutSeconds * 1000, MAX_TIMER_MS));
    signal?.addEventListener('abort', onAbort, { once: true });

    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timeoutTimer);
      clearTimeout(killTimer);
      clearTimeout(pollTimer);
      clearTimeout(drainTimer);
      signal?.removeEventListener('abort', onAbort);
      for (const { stream } of pipes) stream?.destroy();
      tail.flush();
      resolve({
        exitCode: exit?.code ?? null,
        signal: exit?.signal ?? null,
        durationMs: elapsed(),
        outputTail: tail.toString(),
        outputBytes: tail.totalBytes,
        timedOut: stopReason === 'timeout',
        cancelled: stopReason === 'cancel',
        killEscalated,
        ...(spawnError ? { spawnError } : {}),
        pid: pid ?? null,
        timeoutSeconds,
      });
    };

    /** Resolves once the process exited, the pipes are drained and nothing of the group is still running. */
    const check = () => {
      if (done || !exit) return;
      clearTimeout(pollTimer);
      if (!groupGone && openPipes === 0 && !groupHasLiveMembers(pid!)) groupGone = true;
      if (groupGone && openPipes === 0) return finish();
      if (groupGone) {
        // A process outside the group (it called setsid) still holds our pipes: do not wait for it forever.
        drainTimer ??= setTimeout(finish, killGraceMs);
      } else if (openPipes === 0) {
        // The remaining members do not hold our pipes, so no event will tell us when they are gone: poll.
        pollTimer = setTimeout(check, pollDelay);
        pollDelay = Math.min(pollDelay * 2, 100);
      }
    };

    const { onOutput } = options;
    const onPipeClosed = () => {
      openPipes--;
      check();
    };
    for (const { stream, name } of pipes) {
      if (!stream) continue;
      openPipes++;
      const source = tail.source();
      stream.on('data', (chunk: Buffer) => {
        source.write(chunk);
        onOutput?.(chunk, name);
      });
      stream.once('close', onPipeClosed);
      // A read error must not crash the agent; the pipe closes after it and the outcome still resolves.
      stream.on('error', () => {});
    }

    child.once('exit', (code, sig) => {
      exit = { code, signal: sig };
      clearTimeout(timeoutTimer);
      // Background processes the job left behind get the same treatment as a stopped job: SIGTERM, then SIGKILL.
      if (!stopReason) stop('cleanup');
      check();
    });
    child.on('error', (error) => {
      if (pid !== undefined) return; // Only spawn failures end the run; nothing else emits here (we never use child.kill).
      spawnError = spawnErrorOf(error);
      groupGone = true;
      exit = { code: notRunExitCode(spawnError), signal: null };
      finish();
    });
  });
}
