import { accessSync, constants, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isArgvCommand, type JobCommand } from '../functions/core/job-command.ts';

/**
 * What the agent executes for a job's command (functions/core/job-command.ts): a shell snippet runs as
 * `/bin/sh -c <command> sh <args...>`, its args being `$1…$n`; a command array runs its program directly, looked
 * up on the job's PATH, with no shell in between, so its arguments reach it exactly as written.
 */
export const SHELL = '/bin/sh';

export interface Invocation {
  file: string;
  args: string[];
  /** The job's own program (a command array's first entry); absent when the worker's shell runs a snippet. */
  program?: string;
}

/** Throws a RangeError for args with a command array: they have no meaning there, and submits refuse them. */
export function invocationOf(command: JobCommand, args: readonly string[] = []): Invocation {
  if (!isArgvCommand(command)) return { file: SHELL, args: ['-c', command, 'sh', ...args] };
  if (args.length > 0) throw new RangeError('a command array takes no args: its arguments are the entries after the program');
  const [program, ...rest] = command;
  if (program === undefined || program === '') throw new RangeError('a command array needs a program as its first entry');
  return { file: program, args: rest, program };
}

export interface SpawnErrorInfo {
  code: string;
  message: string;
  /** The missing or inaccessible path when it is known: the working directory, the shell or the job's program. */
  path?: string;
  /** Set when it is the job's own program that could not be run, not the worker's shell or directory. */
  program?: { name: string; problem: 'not-found' | 'not-executable' };
}

/** Turns Node's spawn error into something a person can act on: "spawn /bin/sh ENOENT" usually means a missing cwd. */
export function describeSpawnError(error: unknown, cwd: string | undefined, invocation: Invocation, path: string | undefined): SpawnErrorInfo {
  const err = error as NodeJS.ErrnoException;
  const code = err.code ?? 'UNKNOWN';
  if (cwd !== undefined && (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EACCES')) {
    const problem = cwdProblem(cwd);
    if (problem) return { code, message: `working directory ${cwd} ${problem}`, path: cwd };
  }
  const { program } = invocation;
  if (program !== undefined && (code === 'ENOENT' || code === 'EACCES')) {
    return { code, path: program, ...programProblem(code, program, path, cwd) };
  }
  if (code === 'ENOENT') return { code, message: `the shell ${SHELL} does not exist on this worker`, path: SHELL };
  if (code === 'EACCES') return { code, message: `the shell ${SHELL} cannot be executed on this worker`, path: SHELL };
  return { code, message: err.message };
}

/**
 * What went wrong with the job's program, told the way a shell would: found or not, then executable or not. A
 * lookup on PATH fails with EACCES when a directory on it cannot be searched by the job's user even if the program
 * is nowhere, so the directories are looked at again (by the agent, which sees at least what the job user sees).
 */
function programProblem(code: 'ENOENT' | 'EACCES', name: string, path: string | undefined, cwd: string | undefined): Pick<SpawnErrorInfo, 'message' | 'program'> {
  const quoted = JSON.stringify(name);
  const found = locate(name, path, cwd);
  if (found === undefined) {
    const where = name.includes('/') ? 'does not exist' : `was not found on the job's PATH (${path ?? 'unset'})`;
    return { message: `the program ${quoted} ${where}`, program: { name, problem: 'not-found' } };
  }
  const at = found === name ? '' : ` (${found})`;
  if (code === 'ENOENT') {
    // The file is there: what is missing is the interpreter its #! line names. A shell says "not found" too.
    return { message: `the program ${quoted}${at} names an interpreter on its #! line that does not exist`, program: { name, problem: 'not-found' } };
  }
  return { message: `the program ${quoted}${at} cannot be executed by the job's user (permission denied)`, program: { name, problem: 'not-executable' } };
}

/** Where a program is: its path (relative to cwd) when it has a slash, else the first PATH entry holding it. */
function locate(name: string, path: string | undefined, cwd: string | undefined): string | undefined {
  const base = cwd ?? process.cwd();
  const candidates = name.includes('/') ? [resolve(base, name)] : (path ?? '').split(':').map((dir) => join(resolve(base, dir || '.'), name));
  return candidates.find((candidate) => {
    try {
      return statSync(candidate).isFile();
    } catch {
      return false;
    }
  });
}

/**
 * The exit status a shell would have given for a program it could not run: 127 not found, 126 not executable.
 * A command array has no shell to say so, and its users read exit codes the same way (Docker reports these too).
 */
export function notRunExitCode(spawnError: SpawnErrorInfo): number | null {
  if (spawnError.program === undefined) return null;
  return spawnError.program.problem === 'not-found' ? 127 : 126;
}

function cwdProblem(cwd: string): string | undefined {
  try {
    if (!statSync(cwd).isDirectory()) return 'is not a directory';
    accessSync(cwd, constants.X_OK);
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? 'does not exist' : 'cannot be entered (permission denied)';
  }
}
