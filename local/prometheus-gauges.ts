import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { WorkerStore } from '../functions/core/fleet/ports.ts';
import { ENDED_WORKER_STATES, WORKER_STATES, type WorkerState } from '../functions/core/fleet/worker-state.ts';
import { PRIORITIES } from '../functions/core/priority.ts';
import { toQueueStats } from '../functions/core/stats.ts';
import { CONSUMER_QUEUES } from '../functions/declarations/queues.ts';
import { DISPATCH_QUEUES, dispatchQueue, WORKER_CLASSES, WORKER_REPORTS_QUEUE } from '../functions/declarations/workers.ts';

/** Where the scrape-time gauges read: the local SQS, the stats counters and the worker store. */
export interface GaugeSources {
  sqs: SQSClient;
  /** Queue name → URL, as the event backbone created them. */
  queueUrls: ReadonlyMap<string, string>;
  /** The platform-wide stats counters (JobStore.counters('global')). */
  jobCounters: () => Promise<Record<string, number>>;
  workers: Pick<WorkerStore, 'list'>;
  /** Defaults to the declared classes, which the local fleet runs too. */
  workerClasses?: readonly string[];
}

type Labels = Record<string, string>;
type Samples = Array<[Labels, number]>;

/**
 * Ended workers (TERMINATED, FAILED) are left out: they stay in the table until their TTL, which DynamoDB Local
 * never applies, so their count is the history of every run, not the state of the fleet, and reading it would cost
 * more at every scrape.
 */
const LIVE_WORKER_STATES = WORKER_STATES.filter((state) => !ENDED_WORKER_STATES.includes(state));

/** Every DLQ the local runtime creates: the consumers' (which nothing drains), the worker reports' and the dispatch queues'. */
const DEAD_LETTER_QUEUES = [...CONSUMER_QUEUES, WORKER_REPORTS_QUEUE, ...DISPATCH_QUEUES].map((queue) => queue.dlq.name);

/**
 * Registers the gauges read at scrape time, with prom-client's collect(): queue and DLQ depths, active jobs and
 * workers by state. A source that fails leaves its gauge without samples for that scrape (a stale value would pass
 * for a current one) and counts in forgeflow_metrics_scrape_errors_total.
 */
export function registerGauges(registry: Registry, sources: GaugeSources, log: (message: string) => void): void {
  const classes = sources.workerClasses ?? WORKER_CLASSES;
  // Counted, but logged only when a gauge starts failing: a scrape every few seconds would otherwise bury the log.
  const failing = new Set<string>();
  // The reads of the scrape in progress: the error counter, registered last, waits for them to report this scrape's.
  const reads = new Set<Promise<void>>();
  const gauge = (name: string, help: string, labelNames: string[], read: () => Promise<Samples>) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        const done = read().then(
          (samples) => {
            this.reset();
            for (const [labels, value] of samples) this.set(labels, value);
            failing.delete(name);
          },
          (error: unknown) => {
            this.reset();
            if (!failing.has(name)) log(`metrics: ${name} could not be read: ${(error as Error).message}`);
            failing.add(name);
            errors.inc({ gauge: name });
          },
        );
        reads.add(done);
        await done.finally(() => reads.delete(done));
      },
    });
  const url = (name: string) => {
    const found = sources.queueUrls.get(name);
    if (!found) throw new Error(`The local runtime has no queue ${name}`);
    return found;
  };
  const visibleMessages = async (queueUrl: string) => {
    const { Attributes } = await sources.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }));
    return Number(Attributes?.ApproximateNumberOfMessages ?? 0) || 0;
  };

  gauge('forgeflow_queue_depth', 'Dispatch messages waiting for a worker (ApproximateNumberOfMessages), per worker class and priority', ['worker_class', 'priority'], () =>
    Promise.all(
      classes.flatMap((workerClass) =>
        PRIORITIES.map(async (priority): Promise<[Labels, number]> => [{ worker_class: workerClass, priority }, await visibleMessages(url(dispatchQueue(workerClass, priority).name))]),
      ),
    ),
  );
  gauge('forgeflow_dlq_depth', 'Messages in each dead-letter queue (ApproximateNumberOfMessages)', ['queue'], () =>
    Promise.all(DEAD_LETTER_QUEUES.filter((name) => sources.queueUrls.has(name)).map(async (name): Promise<[Labels, number]> => [{ queue: name }, await visibleMessages(url(name))])),
  );
  // The stats counters move in the same transaction as each job's status, so this is exact (no event lag, no
  // reordering) and survives a restart; it costs one BatchGetItem of a fixed number of shards, whatever the jobs.
  gauge('forgeflow_jobs_active', 'Jobs held by a worker (DISPATCHED or RUNNING), per priority', ['priority'], async () => {
    const { running } = toQueueStats(await sources.jobCounters());
    return PRIORITIES.map((priority) => [{ priority }, running[priority]]);
  });
  gauge('forgeflow_workers', 'Workers per worker class and state (ended workers are not counted)', ['worker_class', 'state'], () =>
    Promise.all(
      classes.flatMap((workerClass) =>
        LIVE_WORKER_STATES.map(async (state): Promise<[Labels, number]> => [{ worker_class: workerClass, state }, await countWorkers(sources.workers, workerClass, state)]),
      ),
    ),
  );
  const errors = new Counter({
    name: 'forgeflow_metrics_scrape_errors_total',
    help: 'Scrape-time reads that failed, by gauge',
    labelNames: ['gauge'],
    registers: [registry],
    async collect() {
      await Promise.all(reads);
    },
  });
}

/** One query of the class-and-state index per page: bounded by the live fleet, which is small. */
async function countWorkers(store: Pick<WorkerStore, 'list'>, workerClass: string, state: WorkerState): Promise<number> {
  let count = 0;
  let cursor: string | undefined;
  do {
    const page = await store.list({ class: workerClass, state, limit: 100, ...(cursor ? { cursor } : {}) });
    count += page.items.length;
    cursor = page.nextCursor;
  } while (cursor);
  return count;
}
