import { Command } from 'commander';
import type { StatsResponse } from '../../client/index.ts';
import { PRIORITIES } from '../../functions/core/priority.ts';
import { contextOf, type Cli } from '../context.ts';
import { printJson, table, type Io } from '../output.ts';

/** `forgeflow stats [--global]`: queued and running jobs per priority, and how many ended in each way. */
export function statsCommand(cli: Cli): Command {
  return new Command('stats')
    .description('queued and running jobs per priority, and totals per terminal status')
    .option('-g, --global', 'the whole platform, not only your tenant (platform admins: locally --as admin)')
    .action(async (flags: { global?: boolean }, command: Command) => {
      const { client, io } = contextOf(command, cli);
      printStats(io, await client.stats(flags.global ? 'global' : 'tenant', { signal: cli.signal }));
    });
}

function printStats(io: Io, stats: StatsResponse): void {
  if (io.json) return printJson(io, stats);
  const rows = PRIORITIES.map((priority) => [priority, String(stats.queued[priority]), String(stats.running[priority])]);
  io.out.write(table(['PRIORITY', 'QUEUED', 'RUNNING'], rows));
  io.out.write(`\n${table(Object.keys(stats.totals), [Object.values(stats.totals).map(String)])}`);
}
