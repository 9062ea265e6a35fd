import { Command, Option } from 'commander';
import { collect, type Page, type Worker, type WorkerFilter } from '../../client/index.ts';
import { WORKER_STATES } from '../../functions/core/fleet/worker-state.ts';
import { contextOf, idCommand, withPaging, type Cli, type PagingFlags } from '../context.ts';
import { age, fields, printJson, table, type Io } from '../output.ts';

interface ListFlags extends PagingFlags {
  class?: string;
  state?: WorkerFilter['state'];
}

/** `forgeflow workers ls|get|refresh` (platform admins and operators: locally, `--as admin`). */
export function workersCommand(cli: Cli): Command {
  const workers = new Command('workers').description("the fleet's workers (platform admins and operators; locally --as admin)");
  const ls = new Command('ls')
    .description('list workers, newest first')
    .option('-c, --class <class>', 'only workers of this class')
    .addOption(new Option('-s, --state <state>', 'only workers in this state').choices(WORKER_STATES));
  withPaging(ls, 'workers').action(async (flags: ListFlags, command: Command) => {
    const { client, io } = contextOf(command, cli);
    const filter: WorkerFilter = { limit: flags.limit, ...(flags.class ? { class: flags.class } : {}), ...(flags.state ? { state: flags.state } : {}) };
    const page: Page<Worker> = flags.all
      ? { items: await collect(client.workers.all(filter, { signal: cli.signal })), nextCursor: null }
      : await client.workers.list({ ...filter, ...(flags.cursor ? { cursor: flags.cursor } : {}) }, { signal: cli.signal });
    if (io.json) return printJson(io, page);
    const rows = page.items.map((w) => [w.workerId, w.class, w.state, `${w.runningJobs}/${w.slots}`, w.instanceType ?? '', age(w.lastHeartbeatAt), age(w.createdAt)]);
    io.out.write(table(['WORKER', 'CLASS', 'STATE', 'JOBS', 'TYPE', 'HEARTBEAT', 'AGE'], rows));
    if (page.nextCursor) io.err.write(`(more: forgeflow workers ls --cursor ${page.nextCursor}, or --all)\n`);
  });
  const get = idCommand(cli, 'get', 'show one worker', 'workerId', async ({ client, io }, workerId) => printWorker(io, await client.workers.get(workerId, { signal: cli.signal })));
  const refresh = idCommand(cli, 'refresh', "collect the worker's EC2, CloudWatch and agent metrics now, and show it", 'workerId', async ({ client, io }, workerId) =>
    printWorker(io, await client.workers.refresh(workerId, { signal: cli.signal })),
  );
  for (const command of [ls, get, refresh]) workers.addCommand(command);
  return workers;
}

function printWorker(io: Io, worker: Worker): void {
  if (io.json) return printJson(io, worker);
  const alerts = Object.keys(worker.alerts ?? {});
  io.out.write(
    fields([
      ['worker', worker.workerId],
      ['class', worker.class],
      ['state', worker.state],
      ['jobs', `${worker.runningJobs} running of ${worker.slots} slots`],
      ['instance', [worker.instanceId, worker.instanceType, worker.market, worker.availabilityZone].filter(Boolean).join(' ')],
      ['image', worker.amiId ? `${worker.amiName} (${worker.amiId})` : worker.amiName],
      ['agent', worker.agentVersion],
      ['created', `${worker.createdAt} by ${worker.requestedBy}`],
      ['ready', worker.readyAt],
      ['heartbeat', worker.lastHeartbeatAt ? `${worker.lastHeartbeatAt} (${age(worker.lastHeartbeatAt)} ago)` : undefined],
      ['terminated', worker.termination ? `${worker.terminatedAt ?? ''} ${worker.termination.reason}: ${worker.termination.message}`.trim() : undefined],
      ['failure', worker.failure ? `${worker.failure.reason}: ${worker.failure.message}` : undefined],
      ['metrics', Object.keys(worker.metrics ?? {}).join(', ') || undefined],
      ['alerts', alerts.length > 0 ? alerts.join(', ') : undefined],
    ]),
  );
}
