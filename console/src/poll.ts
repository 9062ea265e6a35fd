import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api/client.ts';

/** Answers that waiting cannot change: the page stops polling and shows them. */
const settled = (error: unknown) => error instanceof ApiError && (error.status === 403 || error.status === 404);

export interface Polled<T> {
  data?: T;
  error?: Error;
  loading: boolean;
  /** Loads again now (after an action), without waiting for the next tick. */
  reload: () => void;
}

/**
 * Loads now, then again `intervalMs` after each answer while the tab is visible and `active` holds: a hidden tab
 * costs the API nothing, and coming back to it loads at once. One request at a time; leaving the page aborts it.
 */
export function usePoll<T>(load: (signal: AbortSignal) => Promise<T>, intervalMs: number, deps: unknown[], active = true): Polled<T> {
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean }>({ loading: true });
  const [generation, setGeneration] = useState(0);
  const activeRef = useRef(active);
  activeRef.current = active;
  const reload = useCallback(() => setGeneration((g) => g + 1), []);

  useEffect(() => {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let inFlight = false;
    setState((s) => ({ ...s, loading: true }));
    const schedule = () => {
      clearTimeout(timer);
      if (activeRef.current && document.visibilityState === 'visible') timer = setTimeout(tick, intervalMs);
    };
    const tick = async () => {
      if (inFlight || controller.signal.aborted) return;
      inFlight = true;
      try {
        const data = await load(controller.signal);
        if (!controller.signal.aborted) setState({ data, loading: false });
      } catch (error) {
        if (!controller.signal.aborted) setState((s) => ({ ...s, error: error as Error, loading: false }));
        if (settled(error)) controller.abort();
      } finally {
        inFlight = false;
        if (!controller.signal.aborted) schedule();
      }
    };
    const onVisibility = () => {
      if (document.visibilityState === 'visible' && !inFlight) void tick();
      else clearTimeout(timer);
    };
    document.addEventListener('visibilitychange', onVisibility);
    void tick();
    return () => {
      controller.abort();
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisibility);
    };
    // The caller names what the load depends on, as with useEffect.
  }, [...deps, generation, intervalMs]);

  // A poll that becomes active again (a retried job runs once more) resumes at once.
  const wasActive = useRef(active);
  useEffect(() => {
    if (active && !wasActive.current) reload();
    wasActive.current = active;
  }, [active, reload]);

  return { ...state, reload };
}
