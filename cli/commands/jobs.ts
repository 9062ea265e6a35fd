import { Command, Option } from 'commander';
import { collect, type ForgeflowClient, type Job, type JobFilter, type JobSummary, type Page } from '../../client/index.ts';
import { JOB_STATUSES } from '../../functions/core/job-status.ts';
import { PRIORITIES } from '../../functions/core/priority.ts';
import { contextOf, idCommand, withPaging, type Cli, type PagingFlags } from '../context.ts';
import { age, duration, fields, printJson, shellQuote, table, type Io } from '../output.ts';
import { logsCommand } from './logs.ts';

interface ListFlags extends PagingFlags {
  status?: JobFilter['status'];
  priority?: JobFilter['priority'];
}

/** `forgeflow jobs ls|get|cancel|retry|events|logs`. */
export function jobsCommand(cli: Cli): Command {
  const jobs = new Command('jobs').description("your tenant's jobs");
  for (const command of [listCommand(cli), getCommand(cli), cancelCommand(cli), retryCommand(cli), eventsCommand(cli), logsCommand(cli)]) jobs.addCommand(command);
  return jobs;
}

function listCommand(cli: Cli): Command {
  const ls = new Command('ls')
    .description('list jobs, newest first')
    .addOption(new Option('-s, --status <status>', 'only jobs in this status').choices(JOB_STATUSES))
    .addOption(new Option('-p, --priority <priority>', 'only jobs of this priority').choices(PRIORITIES));
  return withPaging(ls, 'jobs').action(async (flags: ListFlags, command: Command) => {
    const { client, io } = contextOf(command, cli);
    const filter: JobFilter = { limit: flags.limit, ...(flags.status ? { status: flags.status } : {}), ...(flags.priority ? { priority: flags.priority } : {}) };
    const page = flags.all ? await allJobs(client, filter, cli.signal) : await client.list({ ...filter, ...(flags.cursor ? { cursor: flags.cursor } : {}) }, { signal: cli.signal });
    printJobPage(io, page);
  });
}

function getCommand(cli: Cli): Command {
  return idCommand(cli, 'get', 'show one job', 'jobId', async ({ client, io }, jobId) => printJob(io, await client.get(jobId, { signal: cli.signal })));
}

function cancelCommand(cli: Cli): Command {
  return idCommand(cli, 'cancel', 'cancel a job: a waiting one at once, a running one is stopped by its worker', 'jobId', async ({ client, io }, jobId) => {
    const job = await client.cancel(jobId, { signal: cli.signal });
    if (io.json) printJson(io, job);
    else io.out.write(job.cancelRequested && job.status !== 'CANCELLED' ? `${job.jobId} ${job.status}: cancel requested, its worker stops it\n` : `${job.jobId} ${job.status}\n`);
  });
}

function retryCommand(cli: Cli): Command {
  return idCommand(cli, 'retry', 'run a FAILED or DEAD_LETTERED job again, as a new run', 'jobId', async ({ client, io }, jobId) => {
    const job = await client.retry(jobId, { signal: cli.signal });
    if (io.json) printJson(io, job);
    else io.out.write(`${job.jobId} ${job.status} (run ${job.run})\n`);
  });
}

function eventsCommand(cli: Cli): Command {
  return idCommand(cli, 'events', "a job's history, oldest first", 'jobId', async ({ client, io }, jobId) => {
    const events = await collect(client.events(jobId, { limit: 100 }, { signal: cli.signal }));
    if (io.json) return printJson(io, events);
    const rows = events.map((e) => [e.time, e.type, field(e.data, 'status'), field(e.data, 'run'), field(e.data, 'attempts')]);
    io.out.write(table(['TIME', 'TYPE', 'STATUS', 'RUN', 'ATTEMPT'], rows));
  });
}

async function allJobs(client: ForgeflowClient, filter: JobFilter, signal: AbortSignal): Promise<Page<JobSummary>> {
  return { items: await collect(client.jobs(filter, { signal })), nextCursor: null };
}

function printJobPage(io: Io, page: Page<JobSummary>): void {
  if (io.json) return printJson(io, page);
  const rows = page.items.map((job) => [job.jobId, job.status, job.priority, `${job.attempts}/${job.maxAttempts}`, age(job.createdAt), job.failure?.reason ?? '']);
  io.out.write(table(['JOB', 'STATUS', 'PRIORITY', 'ATTEMPTS', 'AGE', 'FAILURE'], rows));
  // On stderr: the table stays a clean list of jobs for whatever reads stdout.
  if (page.nextCursor) io.err.write(`(more: forgeflow jobs ls --cursor ${page.nextCursor}, or --all)\n`);
}

function printJob(io: Io, job: Job): void {
  if (io.json) return printJson(io, job);
  const command = typeof job.command === 'string' ? job.command : shellQuote(job.command);
  io.out.write(
    fields([
      ['job', job.jobId],
      ['status', job.cancelRequested && job.status !== 'CANCELLED' ? `${job.status} (cancel requested)` : job.status],
      ['command', command],
      ['args', job.args.length > 0 ? shellQuote(job.args) : undefined],
      ['priority', job.priority],
      ['worker class', job.workerClass],
      ['attempts', `${job.attempts}/${job.maxAttempts} (run ${job.run})`],
      ['timeout', `${job.timeoutSeconds}s`],
      ['created', `${job.createdAt} by ${job.createdBy}`],
      ['started', job.startedAt],
      ['finished', job.finishedAt],
      ['worker', job.workerId],
      ['exit code', job.result?.exitCode],
      ['duration', job.result ? duration(job.result.durationMs) : undefined],
      ['failure', job.failure ? `${job.failure.reason} (${job.failure.category}): ${job.failure.message}` : undefined],
      ...(job.failure?.suggestedActions ?? []).map((action): [string, string] => ['  try', action]),
    ]),
  );
  if (job.result?.outputTail) io.out.write(`--- output (tail) ---\n${job.result.outputTail}${job.result.outputTail.endsWith('\n') ? '' : '\n'}`);
}

/** A field most job events carry, if this one does. */
function field(data: object, name: string): string {
  const value = (data as Record<string, unknown>)[name];
  return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
}
