import { CommanderError } from 'commander';
import { ForgeflowApiError, ForgeflowNetworkError } from '../client/index.ts';
import { ConnectionUsageError, MissingTokenError } from './config.ts';
import { EXIT } from './exit-codes.ts';
import type { Io } from './output.ts';

/** The exit code an error stands for (docs/cli.md, "Exit codes"). */
export function exitCodeOf(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
  if (error instanceof ConnectionUsageError) return EXIT.USAGE;
  if (error instanceof MissingTokenError) return EXIT.AUTH;
  if (error instanceof ForgeflowNetworkError) return EXIT.UNAVAILABLE;
  if (error instanceof ForgeflowApiError) {
    if (error.status === 401 || error.status === 403) return EXIT.AUTH;
    if (error.status === 429 || error.status === 502 || error.status === 503 || error.status === 504) return EXIT.UNAVAILABLE;
    return error.status >= 500 ? EXIT.PLATFORM : EXIT.API_ERROR;
  }
  return EXIT.PLATFORM;
}

/**
 * Tells the user what went wrong, on stderr: one line (plus the failing fields of a VALIDATION_ERROR), or with
 * `--json` the API's error body. Commander has printed its own usage errors already.
 */
export function reportError(io: Io, error: unknown): void {
  if (error instanceof CommanderError) return;
  if (error instanceof ForgeflowApiError) {
    if (io.json) {
      io.err.write(JSON.stringify({ status: error.status, code: error.code, message: error.message, details: error.details }) + '\n');
      return;
    }
    io.err.write(`forgeflow: ${error.code}: ${error.message}\n`);
    for (const issue of issuesOf(error)) io.err.write(`  ${issue.path || '(body)'}: ${issue.message}\n`);
    return;
  }
  const message = error instanceof Error ? error.message : String(error);
  if (io.json) io.err.write(JSON.stringify({ code: codeOf(error), message }) + '\n');
  else io.err.write(`forgeflow: ${message}\n`);
  // The stack of an unexpected error helps whoever reports it, but is noise for everyone else.
  if (process.env.FORGEFLOW_DEBUG && error instanceof Error && error.stack) io.err.write(`${error.stack}\n`);
}

function codeOf(error: unknown): string {
  if (error instanceof ForgeflowNetworkError) return 'API_UNREACHABLE';
  if (error instanceof MissingTokenError) return 'NO_TOKEN';
  if (error instanceof ConnectionUsageError) return 'USAGE';
  return 'CLI_ERROR';
}

function issuesOf(error: ForgeflowApiError): Array<{ path: string; message: string }> {
  const issues = error.details.issues;
  if (!Array.isArray(issues)) return [];
  return issues.filter((issue): issue is { path: string; message: string } => typeof issue?.message === 'string').map((issue) => ({ path: String(issue.path ?? ''), message: issue.message }));
}
