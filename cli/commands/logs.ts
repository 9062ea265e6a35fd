import { Command } from 'commander';
import type { ForgeflowClient, LogPage } from '../../client/index.ts';
import { contextOf, integerIn, type Cli } from '../context.ts';
import { printJson, printJsonLine, type Io } from '../output.ts';

interface LogsFlags {
  follow?: boolean;
  attempt?: number;
}

/** `forgeflow jobs logs ID [-f]`: what the job printed so far, or everything as it comes until the job ends. */
export function logsCommand(cli: Cli): Command {
  return new Command('logs')
    .description("a job's output (stdout and stderr together)")
    .argument('<jobId>')
    .option('-f, --follow', 'keep printing as the job writes, until it ends')
    .option('--attempt <n>', 'the attempt to read (default: the current one)', integerIn(1, 1000))
    .action(async (jobId: string, flags: LogsFlags, command: Command) => {
      const { client, io } = contextOf(command, cli);
      if (flags.follow) return follow(client, io, jobId, cli.signal);
      const page = await readAvailable(client, jobId, flags.attempt, cli.signal);
      if (io.json) return printJson(io, page);
      for (const chunk of page.events) io.out.write(chunk.text);
    });
}

/** Every chunk there is now, page after page, as one page: the last one's status, completeness and cursor. */
async function readAvailable(client: ForgeflowClient, jobId: string, attempt: number | undefined, signal: AbortSignal): Promise<LogPage> {
  let page = await client.logs(jobId, attempt ? { attempt } : {}, { signal });
  const events = [...page.events];
  // A job that still runs always has a next cursor; an empty page says the output written so far is all read.
  while (page.nextCursor && page.events.length > 0) {
    page = await client.logs(jobId, { cursor: page.nextCursor }, { signal });
    events.push(...page.events);
  }
  return { ...page, events };
}

async function follow(client: ForgeflowClient, io: Io, jobId: string, signal: AbortSignal): Promise<void> {
  const stream = client.followLogs(jobId, { signal });
  for (;;) {
    const next = await stream.next();
    if (next.done) {
      if (io.json) printJsonLine(io, { event: 'end', ...next.value });
      return;
    }
    if (io.json) printJsonLine(io, { event: 'log', ...next.value });
    else io.out.write(next.value.text);
  }
}
