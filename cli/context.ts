import { Command, InvalidArgumentError } from 'commander';
import { ForgeflowClient } from '../client/index.ts';
import { resolveConnection, type ConnectionFlags } from './config.ts';
import type { Io } from './output.ts';

export interface GlobalFlags extends ConnectionFlags {
  json?: boolean;
}

/** What every command is built with: where it writes, the environment it reads, and where it leaves its exit code. */
export interface Cli {
  io: Omit<Io, 'json'>;
  env: NodeJS.ProcessEnv;
  /** Aborted on Ctrl-C: a waiting command stops waiting (the job goes on). */
  signal: AbortSignal;
  /** Commander actions return nothing: a command that exits with something other than 0 sets it here. */
  outcome: { exitCode: number };
}

export interface Context {
  client: ForgeflowClient;
  io: Io;
}

/** The client and output settings for the command being run, from the program's global flags and the environment. */
export function contextOf(command: Command, cli: Cli): Context {
  const flags = command.optsWithGlobals<GlobalFlags>();
  const connection = resolveConnection(flags, cli.env);
  return { client: new ForgeflowClient({ baseUrl: connection.baseUrl, token: connection.token }), io: { ...cli.io, json: flags.json === true } };
}

/** A command on one thing named by id (`get <jobId>`, `refresh <workerId>`), run with the invocation's context. */
export function idCommand(cli: Cli, name: string, description: string, id: string, run: (context: Context, id: string) => Promise<void>): Command {
  return new Command(name)
    .description(description)
    .argument(`<${id}>`)
    .action(async (value: string, _flags: unknown, command: Command) => run(contextOf(command, cli), value));
}

/** The flags every paged `ls` takes: `--limit`, `--cursor` from an earlier page, or `--all` pages. */
export interface PagingFlags {
  limit: number;
  cursor?: string;
  all?: boolean;
}

export function withPaging(command: Command, things: string): Command {
  return command
    .option('-n, --limit <n>', `${things} per page (1-100)`, integerIn(1, 100), 20)
    .option('--cursor <cursor>', 'go on from an earlier page (its nextCursor)')
    .option('-a, --all', 'every page, not only the first');
}

/** Commander argument parser for a whole number within bounds. */
export function integerIn(min: number, max: number) {
  return (value: string): number => {
    const number = Number(value);
    if (!/^\d+$/.test(value) || number < min || number > max) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    return number;
  };
}

/** Commander parser for repeated `KEY=VALUE` flags, gathered into one map. */
export function keyValue(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const at = value.indexOf('=');
  if (at <= 0) throw new InvalidArgumentError('expected KEY=VALUE');
  return { ...previous, [value.slice(0, at)]: value.slice(at + 1) };
}
