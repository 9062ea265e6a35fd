/**
 * The agent's capacity: one slot per message it holds, whether a receive is waiting for it or a job is running it.
 * Receives reserve slots BEFORE asking SQS (MaxNumberOfMessages = reserved), so the agent can never hold more
 * messages than `concurrency`; a message it cannot run would sit invisible to every other agent.
 */
export class Slots {
  private used = 0;
  private readonly wake = new Wakeup();

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
  }

  get free(): number {
    return this.capacity - this.used;
  }

  get inUse(): number {
    return this.used;
  }

  acquire(n: number): void {
    if (n < 0 || n > this.free) throw new RangeError(`cannot acquire ${n} slots, ${this.free} free`);
    this.used += n;
  }

  release(n = 1): void {
    if (n <= 0) return;
    if (n > this.used) throw new RangeError(`cannot release ${n} slots, ${this.used} in use`);
    this.used -= n;
    this.wake.notify();
  }

  /** Resolves at the next release. */
  released(): Promise<void> {
    return this.wake.next();
  }
}

/**
 * A level-free notification: `next()` resolves at the next `notify()`. Callers check their condition, then await
 * `next()` in the same tick, so a notify cannot slip in between (JavaScript runs the check and the await atomically).
 */
export class Wakeup {
  private waiting: { promise: Promise<void>; resolve: () => void } | undefined;

  next(): Promise<void> {
    if (!this.waiting) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.waiting = { promise, resolve };
    }
    return this.waiting.promise;
  }

  notify(): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.resolve();
  }
}
