/**
 * fauxqs re-checks a queue every 20 ms for as long as a long poll waits on it, to hand the waiting receive a message
 * whose visibility timeout or delay ran out. A local runtime keeps a long poll waiting on nearly every queue (each
 * consumer's, each agent's dispatch queues), so an idle `npm start` woke its event loop about 500 times a second for
 * nothing: with the stream and receive pacing of the same change (decision 0021), an idle runtime with no worker went
 * from about 8% of a core to 2%.
 *
 * Here the recheck is one timer at the queue's next deadline (the earliest visibility or delay to run out), never
 * further than RECHECK_MAX_MS away, so a deadline that appears while it is armed (a new receive's, a visibility
 * shortened by ChangeMessageVisibility) is honoured within that. A message sent, or released with visibility 0, still
 * wakes a waiting receive at once: fauxqs does that itself (notifyWaiters), with no timer. SQS promises no finer
 * timing: a message is visible again "after" its timeout, and receives are approximate.
 *
 * fauxqs exports no hook for this, so it is a patch of its queue class, by name, applied once per process; no npm
 * package does it. `patchFauxqsWaitTimer` answers whether it applied, and test/local/sqs-wait-timer.test.ts fails if a
 * fauxqs upgrade moves what it patches (the emulator would then still be right, only busier).
 */

/** The parts of fauxqs's SqsQueue (dist/sqs/sqsStore.js, 1.9) the recheck reads and replaces. */
interface FauxqsQueue {
  pollWaiters: unknown[];
  pollTimer: NodeJS.Timeout | undefined;
  inflightMessages: Map<string, { visibilityDeadline: number }>;
  delayedMessages: { delayUntil?: number }[];
  fifoDelayed: Map<string, { delayUntil?: number }[]>;
  processTimers(): void;
  startPollTimerIfNeeded(): void;
  stopPollTimerIfEmpty(): void;
}

/** What the patch needs fauxqs's queue class to still have, by name. */
const PATCHED_METHODS = ['startPollTimerIfNeeded', 'stopPollTimerIfEmpty', 'processTimers'] as const satisfies readonly (keyof FauxqsQueue)[];

/** fauxqs's own interval: the finest the recheck gets. */
const RECHECK_MIN_MS = 20;
/** How late a deadline that appeared while the timer was armed may be noticed. */
export const RECHECK_MAX_MS = 250;

/** Milliseconds from `now` to the queue's next visibility or delay deadline, within [RECHECK_MIN_MS, RECHECK_MAX_MS]. */
export function nextRecheckMs(queue: Pick<FauxqsQueue, 'inflightMessages' | 'delayedMessages' | 'fifoDelayed'>, now: number): number {
  let next = now + RECHECK_MAX_MS;
  for (const { visibilityDeadline } of queue.inflightMessages.values()) next = Math.min(next, visibilityDeadline);
  const delayed = [queue.delayedMessages, ...queue.fifoDelayed.values()];
  for (const messages of delayed) for (const { delayUntil } of messages) if (delayUntil !== undefined) next = Math.min(next, delayUntil);
  return Math.max(RECHECK_MIN_MS, next - now);
}

/** Replaces SqsQueue.startPollTimerIfNeeded; `pollTimer` stays the one fauxqs clears (stopPollTimerIfEmpty, cancelWaiters). */
function startRecheckAtNextDeadline(this: FauxqsQueue): void {
  if (this.pollTimer) return;
  const recheck = () => {
    this.pollTimer = undefined;
    // Wakes every waiting receive when a message is ready; those that remain keep the recheck going.
    this.processTimers();
    if (this.pollWaiters.length > 0 && !this.pollTimer) this.pollTimer = setTimeout(recheck, nextRecheckMs(this, Date.now()));
  };
  this.pollTimer = setTimeout(recheck, nextRecheckMs(this, Date.now()));
}

let applied: Promise<boolean> | undefined;

/** Patches fauxqs's queue class once per process; answers false (and leaves fauxqs as it is) if its shape changed. */
export function patchFauxqsWaitTimer(): Promise<boolean> {
  return (applied ??= (async () => {
    const storeModule = new URL('./sqs/sqsStore.js', import.meta.resolve('fauxqs'));
    const { SqsQueue } = (await import(storeModule.href)) as { SqsQueue?: { prototype: Partial<FauxqsQueue> } };
    const queue = SqsQueue?.prototype;
    const shapeKnown = PATCHED_METHODS.every((name) => typeof queue?.[name] === 'function');
    if (!queue || !shapeKnown) return false;
    queue.startPollTimerIfNeeded = startRecheckAtNextDeadline;
    return true;
  })());
}
