import { constants } from 'node:os';
import { describeFailure, type FailureReason, type JobFailure } from '../functions/core/failure-reasons.ts';
import { SHELL, type JobProcessOutcome } from './process-runner.ts';

/**
 * Turns what happened to a job process into the platform's answer: success, or a failure from the catalog
 * (docs/architecture.md, "Failures are data") with a message that says what happened in this run.
 *
 * The order matters: a spawn error means nothing ran; a stop we asked for (cancel, timeout) explains whatever exit
 * status followed it (a job that catches SIGTERM and exits 0 was still stopped); only then the exit status counts.
 */
export type CategorizedOutcome = { succeeded: true } | { succeeded: false; failure: JobFailure };

type Outcome = Pick<JobProcessOutcome, 'exitCode' | 'signal' | 'timedOut' | 'cancelled' | 'timeoutSeconds' | 'outputTail'> &
  Partial<Pick<JobProcessOutcome, 'spawnError' | 'killEscalated'>>;

const LAST_LINE_MAX = 300;

export function categorizeOutcome(outcome: Outcome): CategorizedOutcome {
  const fail = (reason: FailureReason, message: string): CategorizedOutcome => ({ succeeded: false, failure: describeFailure(reason, message) });
  const output = lastLineNote(outcome.outputTail);

  if (outcome.spawnError) {
    const { code, message, path, program } = outcome.spawnError;
    const detail = `The job process could not be started: ${message} (${code}).`;
    // A command array's program is the job's own: missing or not executable is the user's to fix, as with a shell.
    if (program !== undefined) {
      const status = outcome.exitCode === null ? '' : ` Exit code ${outcome.exitCode}, as a shell would give.`;
      return fail(program.problem === 'not-found' ? 'COMMAND_NOT_FOUND' : 'PERMISSION_DENIED', `${detail}${status}`);
    }
    switch (code) {
      case 'ENOENT':
        // The shell is the worker's, not the job's: its absence is a broken worker, worth retrying elsewhere.
        if (path === SHELL) return fail('PROCESS_SPAWN_FAILED', detail);
        return fail(path?.includes('/') ? 'FILE_NOT_FOUND' : 'COMMAND_NOT_FOUND', detail);
      case 'ENOTDIR':
        return fail('FILE_NOT_FOUND', detail);
      case 'EACCES':
        return fail(path === SHELL ? 'PROCESS_SPAWN_FAILED' : 'PERMISSION_DENIED', detail);
      case 'E2BIG':
      case 'ERR_INVALID_ARG_VALUE':
        // Arguments and environment too large, or containing NUL bytes: the same job will fail the same way.
        return fail('VALIDATION_ERROR', detail);
      default:
        // EAGAIN, EMFILE, ENFILE, ENOMEM...: the worker is out of a resource, another attempt may succeed.
        return fail('PROCESS_SPAWN_FAILED', detail);
    }
  }

  const stopped = outcome.killEscalated ? ' It ignored SIGTERM and was killed with SIGKILL after the grace period.' : '';
  if (outcome.cancelled) return fail('CANCELLED', `The job was cancelled while running.${stopped}${output}`);
  if (outcome.timedOut) return fail('EXECUTION_TIMEOUT', `The job exceeded its timeout of ${outcome.timeoutSeconds} s and was stopped.${stopped}${output}`);

  const { exitCode, signal } = outcome;
  if (exitCode === 0) return { succeeded: true };
  if (signal) {
    return fail('SIGNAL_RECEIVED', `The job was killed by ${signal}, which the agent did not send (for SIGKILL, often the out-of-memory killer).${output}`);
  }
  if (exitCode === 127) return fail('COMMAND_NOT_FOUND', `The shell could not find the command (exit code 127).${output}`);
  if (exitCode === 126) return fail('PERMISSION_DENIED', `The command could not be executed (exit code 126).${output}`);
  if (exitCode === null) return fail('UNKNOWN', `The job ended without an exit code or signal.${output}`);
  return fail('NON_ZERO_EXIT_CODE', `The command exited with code ${exitCode}${signalHint(exitCode)}.${output}`);
}

/** The shell reports a child killed by signal N as exit code 128+N: say so, it is often the real story. */
function signalHint(exitCode: number): string {
  if (exitCode <= 128 || exitCode > 128 + 64) return '';
  const name = Object.entries(constants.signals).find(([, number]) => number === exitCode - 128)?.[0];
  return name ? ` (128+${exitCode - 128}: a process of the job was killed by ${name})` : '';
}

/** The last non-empty line of output, cleaned of terminal control sequences and shortened: often the error itself. */
function lastLineNote(outputTail: string): string {
  const lines = outputTail
    .replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, '') // eslint-disable-line no-control-regex -- ANSI CSI sequences
    .split(/\r?\n|\r/);
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!.replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '').trim(); // eslint-disable-line no-control-regex -- control characters
    if (!line) continue;
    const short = line.length > LAST_LINE_MAX ? `${line.slice(0, LAST_LINE_MAX)}…` : line;
    return ` Last output line: ${JSON.stringify(short)}`;
  }
  return '';
}
