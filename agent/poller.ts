import { ChangeMessageVisibilityCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import type { Priority } from '../functions/core/priority.ts';
import { SQS_BATCH_MAX } from '../functions/declarations/queues.ts';
import type { AgentLogger } from './job.ts';
import { errorName } from './retry.ts';
import { SmoothWeightedRoundRobin } from './scheduler.ts';
import { Wakeup, type Slots } from './slots.ts';

/**
 * Takes work from one worker class's dispatch queues (docs/architecture.md, "priority is enforced where work is taken").
 *
 * Busy (some queue may have work): one short poll at a time (WaitTimeSeconds 0), the queue chosen by smooth weighted
 * round-robin among the queues not known to be empty, asking for as many messages as there are free slots (≤ 10).
 * A queue that answered empty is skipped for EMPTY_RECHECK_MS, so a busy agent does not spend most of its receives
 * on empty queues, yet notices new critical work within a second and never loses track of low.
 *
 * Idle (every queue answered empty): one long poll per queue AT ONCE, each for one message, so a job in any queue is
 * taken as soon as it arrives, whatever its priority. Serial long polls would leave a medium job (the default
 * priority) waiting up to 20 s per queue ahead of it. Every receive reserves its slots before it is sent, so the
 * agent never holds more messages than it can run. The price: right after an idle spell, the long polls on the other
 * queues keep their one reserved slot until a message arrives or their wait ends, so a burst into one queue may run
 * with up to three slots fewer for at most idleWaitSeconds. A shorter idle wait trades requests for that.
 * Long polls are never aborted, neither to free those slots nor to drain faster: the server does not notice that the
 * client went away (fauxqs certainly does not, and nothing promises that SQS does), so the abandoned receive still
 * takes the next message that arrives, for nobody: invisible for a visibility timeout, one receive closer to the DLQ.
 */
export interface DispatchQueueRef {
  priority: Priority;
  url: string;
}

export interface PollerOptions {
  sqs: SQSClient;
  /** Highest priority first. */
  queues: readonly DispatchQueueRef[];
  weights: Readonly<Record<Priority, number>>;
  slots: Slots;
  idleWaitSeconds: number;
  /**
   * The visibility a received message starts with: the agent's liveness window from the first moment, not the
   * queue's default. The same as the queue's in AWS (VISIBILITY_EXTENSION_SECONDS); an agent given a shorter window
   * (FORGEFLOW_VISIBILITY_EXTENSION_SECONDS) has a dead agent's messages back that much sooner, at no extra call.
   */
  visibilityTimeoutSeconds: number;
  /** Takes ownership of one message and of the one slot reserved for it; the caller releases the slot when done. */
  onMessage: (queue: DispatchQueueRef, message: Message) => void;
  logger: AgentLogger;
}

export const EMPTY_RECHECK_MS = 1000;
const MAX_ERROR_BACKOFF_MS = 20_000;

export class Poller {
  private readonly scheduler: SmoothWeightedRoundRobin<Priority>;
  private readonly wake = new Wakeup();
  private readonly emptyUntil = new Map<Priority, number>();
  private readonly coolUntil = new Map<Priority, number>();
  private readonly errors = new Map<Priority, number>();
  private readonly longPolls = new Map<Priority, Promise<void>>();
  /** Which queues were long-polled least recently, when there are fewer free slots than queues. */
  private readonly lastLongPoll = new Map<Priority, number>();
  private longPollSeq = 0;
  private readonly receiveAbort = new AbortController();
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(private readonly options: PollerOptions) {
    this.scheduler = new SmoothWeightedRoundRobin(options.weights);
  }

  /** Starts the loop; the promise settles once stop() was called and every receive in flight has settled. */
  start(): Promise<void> {
    return (this.loop ??= this.run());
  }

  /**
   * No new receives. Those in flight are left to finish (at most idleWaitSeconds) and whatever they still bring is
   * given back at once: see the class comment for why they are not aborted.
   */
  stop(): void {
    this.stopped = true;
    this.wake.notify();
  }

  /** For an agent about to exit anyway (second signal): the process exit would drop these requests just the same. */
  abandonReceives(): void {
    this.receiveAbort.abort();
  }

  private async run(): Promise<void> {
    const { slots, queues } = this.options;
    while (!this.stopped) {
      const free = slots.free;
      if (free === 0) {
        await this.nextChange();
        continue;
      }
      const now = Date.now();
      const candidates = queues.filter(({ priority: p }) => !this.longPolls.has(p) && !this.cooling(p, now) && (this.emptyUntil.get(p) ?? 0) <= now);
      const pick = this.scheduler.pick(candidates.map((q) => q.priority));
      if (pick) {
        await this.receive(queues.find((q) => q.priority === pick)!, Math.min(SQS_BATCH_MAX, free), 0);
        continue;
      }
      this.startLongPolls(free, now);
      await this.nextChange(this.nextCoolingEnd(now));
    }
    await Promise.allSettled(this.longPolls.values());
  }

  private startLongPolls(free: number, now: number): void {
    const idle = this.options.queues
      .filter(({ priority: p }) => !this.longPolls.has(p) && !this.cooling(p, now))
      .sort((a, b) => (this.lastLongPoll.get(a.priority) ?? 0) - (this.lastLongPoll.get(b.priority) ?? 0));
    for (const queue of idle.slice(0, free)) {
      this.lastLongPoll.set(queue.priority, ++this.longPollSeq);
      const poll = this.receive(queue, 1, this.options.idleWaitSeconds).finally(() => {
        this.longPolls.delete(queue.priority);
        this.wake.notify();
      });
      this.longPolls.set(queue.priority, poll);
    }
  }

  private async receive(queue: DispatchQueueRef, max: number, waitSeconds: number): Promise<void> {
    const { sqs, slots, logger } = this.options;
    slots.acquire(max);
    let messages: Message[];
    try {
      const output = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queue.url, MaxNumberOfMessages: max, WaitTimeSeconds: waitSeconds, VisibilityTimeout: this.options.visibilityTimeoutSeconds, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }),
        { abortSignal: this.receiveAbort.signal },
      );
      messages = (output.Messages ?? []).slice(0, max);
      this.errors.delete(queue.priority);
    } catch (error) {
      slots.release(max);
      if (this.receiveAbort.signal.aborted) return;
      // Back off this queue only: a broken or throttled queue must not stall the others.
      const failures = (this.errors.get(queue.priority) ?? 0) + 1;
      this.errors.set(queue.priority, failures);
      const ceiling = Math.min(MAX_ERROR_BACKOFF_MS, 500 * 2 ** (failures - 1));
      this.coolUntil.set(queue.priority, Date.now() + ceiling / 2 + Math.random() * (ceiling / 2));
      logger.warn('receive failed; backing off this queue', { queue: queue.priority, failures, error: errorName(error), detail: (error as Error).message });
      return;
    }
    if (messages.length === 0) this.emptyUntil.set(queue.priority, Date.now() + EMPTY_RECHECK_MS);
    else this.emptyUntil.delete(queue.priority);
    // Hand over first, then free what was not used, so no other receive can take these slots in between.
    for (const message of messages) {
      if (this.stopped) void this.giveBack(queue, message);
      else this.options.onMessage(queue, message);
    }
    slots.release(max - messages.length);
  }

  /** A message received after stop(): visible again at once, for another agent. */
  private async giveBack(queue: DispatchQueueRef, message: Message): Promise<void> {
    try {
      await this.options.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queue.url, ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: 0 }));
    } catch (error) {
      this.options.logger.warn('could not give back a message received while stopping; it reappears after its visibility timeout', { queue: queue.priority, error: errorName(error) });
    } finally {
      this.options.slots.release(1);
    }
  }

  private cooling(priority: Priority, now: number): boolean {
    return (this.coolUntil.get(priority) ?? 0) > now;
  }

  private nextCoolingEnd(now: number): number | undefined {
    const ends = [...this.coolUntil.values()].filter((end) => end > now);
    return ends.length > 0 ? Math.min(...ends) - now : undefined;
  }

  /** Waits for a slot to be released, a long poll to end, stop(), or `timeoutMs` (a queue's backoff ending). */
  private async nextChange(timeoutMs?: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const waits: Array<Promise<void>> = [this.options.slots.released(), this.wake.next()];
    if (timeoutMs !== undefined) waits.push(new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs))));
    try {
      await Promise.race(waits);
    } finally {
      clearTimeout(timer);
    }
  }
}
