import { InvalidArgumentError, type Command } from 'commander';
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
