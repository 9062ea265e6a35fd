import { isTaskOver } from './retry.ts';

/**
 * Liveness of one held message (docs/architecture.md, "liveness through SQS visibility"): every interval the agent pushes the message's visibility timeout
 * forward and sends a task heartbeat. The two answer different questions. The visibility extension says "this agent
 * is alive": if it stops (the agent died), the message reappears and another agent takes the job. The heartbeat
 * asks "is the task still open?": TaskTimedOut / TaskDoesNotExist / InvalidToken mean the saga has moved on
 * (timed out, cancelled, or another agent answered), so the job must stop.
 *
 * Ticks are chained timeouts, not setInterval: a slow tick (a long SDK retry) never overlaps the next one, and
 * `stop()` waits for the tick in flight, so no extension can land after the caller released or deleted the message
 * (a late ChangeMessageVisibility(30) after a release to 0 would hide the job from every agent for 30 s).
 */
export interface LivenessOptions {
  intervalMs: number;
  extendVisibility: () => Promise<unknown>;
  heartbeat: () => Promise<unknown>;
  /** Called once, on the first task-over answer; ticking stops there. */
  onTaskOver: (error: unknown) => void;
  /** A failed call that does not end the task (network, throttling, a stale receipt handle): logged, not fatal. */
  onError: (call: 'ChangeMessageVisibility' | 'SendTaskHeartbeat', error: unknown) => void;
}

export interface Liveness {
  /** Stops ticking and waits for a tick in flight. Safe to call more than once. */
  stop(): Promise<void>;
}

export function startLiveness(options: LivenessOptions): Liveness {
  const { intervalMs } = options;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | undefined;

  const tick = async () => {
    const startedAt = Date.now();
    const [visibility, heartbeat] = await Promise.allSettled([options.extendVisibility(), options.heartbeat()]);
    if (visibility.status === 'rejected') options.onError('ChangeMessageVisibility', visibility.reason);
    if (heartbeat.status === 'rejected') {
      if (isTaskOver(heartbeat.reason)) {
        stopped = true;
        options.onTaskOver(heartbeat.reason);
        return;
      }
      options.onError('SendTaskHeartbeat', heartbeat.reason);
    }
    // Keep the rhythm from tick start to tick start, so slow calls do not stretch the period.
    schedule(Math.max(0, intervalMs - (Date.now() - startedAt)));
  };

  const schedule = (delayMs: number) => {
    if (stopped) return;
    timer = setTimeout(() => {
      // The callbacks are the caller's; a throw there must not become an unhandled rejection that ends the agent.
      inFlight = tick()
        .catch((error: unknown) => options.onError('SendTaskHeartbeat', error))
        .finally(() => (inFlight = undefined));
    }, delayMs);
  };

  schedule(intervalMs);
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await inFlight;
    },
  };
}
