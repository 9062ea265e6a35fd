import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import type { AgentStats } from '../functions/core/fleet/worker-metrics.ts';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { JobLogWriter } from '../functions/core/job-logs.ts';
import { PRIORITIES } from '../functions/core/priority.ts';
import { PRIORITY_WEIGHTS } from '../functions/declarations/workers.ts';
import type { AgentConfig } from './config.ts';
import { HeldJob, type AgentEvent, type AgentLogger, type StartGate } from './job.ts';
import { Poller } from './poller.ts';
import type { RetryOptions } from './retry.ts';
import { Slots } from './slots.ts';

/**
 * The worker agent, wired: a poller that takes messages into free slots, one HeldJob per message, and the two ways
 * to stop. The runtime (bin/agent.ts) builds the clients and handles signals; tests build it with their own.
 */
export interface AgentOptions {
  config: AgentConfig;
  sqs: SQSClient;
  sfn: SFNClient;
  logger: AgentLogger;
  onEvent?: (event: AgentEvent) => void;
  /** In a fleet: asks worker-control before each command starts (see HeldJob). */
  startGate?: StartGate;
  /** Where jobs' output is shipped while they run (the log group, or the local store); absent, only tails are kept. */
  logs?: JobLogWriter;
  /** Outer retries of SendTask*, the started report and DeleteMessage (the SDK retries inside each attempt too). */
  retry?: Omit<RetryOptions, 'onRetry'>;
}

export interface Agent {
  /** Starts taking work. Settles after drain() or kill(). */
  start(): Promise<void>;
  /**
   * Graceful stop: no new receives, running jobs may finish for drainTimeoutSeconds; those still running then are
   * stopped and their messages released (visibility 0) so another agent takes them at once. Receives in flight are
   * waited for, so an idle agent takes up to idleWaitSeconds to stop (see Poller.stop for why).
   */
  drain(options?: { timeoutSeconds?: number }): Promise<void>;
  /** Immediate stop (second signal): SIGTERM then SIGKILL to every job's process group, now. Messages are left. */
  kill(): void;
  readonly runningJobs: number;
  /** The jobs this agent holds now (what the heartbeat reports). */
  runningJobIds(): string[];
  /** Epoch ms since which the agent has held no job, or undefined while it holds one. */
  idleSince(): number | undefined;
  /** Takes no new work and gives every held job back now (stopped, message visible again): the spot-warning path. */
  releaseAll(): void;
  /** What the agent tells the platform about itself with each heartbeat (the collector's agent source). */
  stats(): AgentStats;
}

const DEFAULT_RETRY = { attempts: 4, baseDelayMs: 1000 };

export function createAgent(options: AgentOptions): Agent {
  const { config, logger } = options;
  const emit = (event: AgentEvent) => {
    try {
      options.onEvent?.(event);
    } catch (error) {
      logger.warn('event observer threw', { error: (error as Error).message });
    }
  };
  const slots = new Slots(config.concurrency);
  const jobs = new Set<HeldJob>();
  const startedAt = Date.now();
  let jobsDone = 0;
  const jobDeps = {
    sqs: options.sqs,
    sfn: options.sfn,
    workerId: config.workerId,
    killGraceMs: config.killGraceMs,
    jobUser: config.jobUser,
    livenessIntervalMs: config.livenessIntervalSeconds * 1000,
    visibilityExtensionSeconds: config.visibilityExtensionSeconds,
    reportsQueueUrl: config.reportsQueueUrl,
    ...(options.startGate ? { startGate: options.startGate } : {}),
    ...(options.logs ? { logs: options.logs } : {}),
    retry: options.retry ?? DEFAULT_RETRY,
    heldTokens: new Set<string>(),
    logger,
    emit,
  };
  const poller = new Poller({
    sqs: options.sqs,
    queues: PRIORITIES.map((priority) => ({ priority, url: config.queueUrls[priority] })),
    weights: PRIORITY_WEIGHTS,
    slots,
    idleWaitSeconds: config.idleWaitSeconds,
    visibilityTimeoutSeconds: config.visibilityExtensionSeconds,
    logger,
    onMessage: (queue, message) => {
      emit({ type: 'received', queue: queue.priority, messageId: message.MessageId ?? '?', receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? 1) });
      const job = new HeldJob(jobDeps, queue, message);
      jobs.add(job);
      idleSince = undefined;
      void job.done.then(() => {
        jobsDone += 1;
        jobs.delete(job);
        slots.release(1);
        if (jobs.size === 0) idleSince = Date.now();
      });
    },
  });

  let draining: Promise<void> | undefined;
  let idleSince: number | undefined = Date.now();
  return {
    start: () => poller.start(),
    get runningJobs() {
      return jobs.size;
    },
    runningJobIds: () => [...jobs].flatMap((job) => (job.jobId ? [job.jobId] : [])),
    idleSince: () => idleSince,
    stats: () => ({
      runningJobs: jobs.size,
      // Not slots.free: the poller holds free slots while it long-polls, so that reads 0 on an idle agent.
      freeSlots: Math.max(0, config.concurrency - jobs.size),
      jobsDone,
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      loadAverage: loadavg().map((l) => Math.round(l * 100) / 100) as [number, number, number],
      memoryRssBytes: process.memoryUsage.rss(),
    }),
    drain: ({ timeoutSeconds = config.drainTimeoutSeconds } = {}) =>
      (draining ??= (async () => {
        poller.stop();
        const settled = Promise.all([poller.start(), ...[...jobs].map((job) => job.done)]).then(() => true);
        logger.info('draining', { runningJobs: jobs.size, drainTimeoutSeconds: timeoutSeconds });
        let timer: NodeJS.Timeout | undefined;
        // An unbounded drain (scale-in) waits for the jobs' own timeouts; setTimeout cannot take Infinity.
        const deadline = Number.isFinite(timeoutSeconds)
          ? new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutSeconds * 1000)))
          : new Promise<false>(() => undefined);
        const finished = await Promise.race([settled, deadline]);
        clearTimeout(timer);
        if (!finished) {
          logger.warn('drain timeout: stopping and releasing the jobs still running', { runningJobs: jobs.size });
          for (const job of jobs) job.release();
          await Promise.all([poller.start(), ...[...jobs].map((job) => job.done)]);
        }
        logger.info('drained');
      })()),
    releaseAll() {
      poller.stop();
      for (const job of jobs) job.release();
    },
    kill() {
      poller.stop();
      poller.abandonReceives();
      for (const job of jobs) job.release(); // SIGTERM to each group, synchronously.
      killChildProcessGroups();
    },
  };
}

/**
 * SIGKILL to the process group of every direct child. The runner starts each job as a group leader (detached), so a
 * child's pid is its group id; the runner's own SIGKILL escalation is a timer that would die with the agent.
 * Linux only (/proc); elsewhere the SIGTERM sent by release() is all a job gets.
 */
function killChildProcessGroups(): void {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
      // "pid (comm) state ppid pgrp ...": comm may contain spaces, so parse after the last ')'.
      const [, ppid, pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(ppid) === process.pid && Number(pgrp) === Number(entry)) process.kill(-Number(entry), 'SIGKILL');
    } catch {
      // Gone while we looked, or not ours to signal.
    }
  }
}
