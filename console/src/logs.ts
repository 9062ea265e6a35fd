import { createParser } from 'eventsource-parser';
import { ApiError, authHeaders, errorOf } from './api/client.ts';

/** One chunk of an attempt's combined stdout and stderr (the logs contract: GET /v1/jobs/{id}/logs?follow=true). */
export interface LogChunk {
  attempt: number;
  seq: number;
  timestamp: string;
  text: string;
}

export interface LogEnd {
  status: string;
  exitCode?: number | null;
}

export interface FollowCallbacks {
  onChunk: (chunk: LogChunk) => void;
  onEnd: (end: LogEnd) => void;
  /** The API has no log stream (an older API, or a route not deployed): the page shows the result's output tail. */
  onUnavailable: () => void;
  onError: (error: ApiError) => void;
}

const RECONNECT_MS = 500;
const MAX_BACKOFF_MS = 5000;

const pause = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

/**
 * Follows a job's log over server-sent events. Not EventSource: it cannot send the Authorization header. A response
 * may end without `end` (API Gateway does not stream, so the API answers within a time limit): the next request
 * carries Last-Event-ID and the stream goes on where it stopped.
 */
export async function followLogs(jobId: string, callbacks: FollowCallbacks, signal: AbortSignal): Promise<void> {
  let lastId: string | undefined;
  let backoff = RECONNECT_MS;
  while (!signal.aborted) {
    let response: Response;
    try {
      response = await fetch(`/v1/jobs/${encodeURIComponent(jobId)}/logs?follow=true`, {
        headers: { ...authHeaders(), accept: 'text/event-stream', ...(lastId ? { 'last-event-id': lastId } : {}) },
        cache: 'no-store',
        signal,
      });
    } catch (error) {
      if (signal.aborted) return;
      callbacks.onError(new ApiError(0, 'NETWORK_ERROR', `The log stream could not be reached: ${(error as Error).message}`));
      await pause((backoff = Math.min(backoff * 2, MAX_BACKOFF_MS)), signal);
      continue;
    }
    if (!response.ok) {
      const error = await errorOf(response);
      if (error.code === 'ROUTE_NOT_FOUND') return callbacks.onUnavailable();
      if (response.status !== 429 && response.status < 500) return callbacks.onError(error);
      callbacks.onError(error);
      await pause((backoff = Math.min(backoff * 2, MAX_BACKOFF_MS)), signal);
      continue;
    }
    if (!(response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
      await response.body?.cancel();
      return callbacks.onUnavailable();
    }
    const { ended, received } = await readStream(response, callbacks, (id) => (lastId = id));
    if (ended) return;
    // A response that brought nothing new waits a little longer before the next: the job is quiet.
    backoff = received ? RECONNECT_MS : Math.min(backoff * 2, MAX_BACKOFF_MS);
    await pause(backoff, signal);
  }
}

async function readStream(response: Response, callbacks: FollowCallbacks, remember: (id: string) => void): Promise<{ ended: boolean; received: boolean }> {
  let ended = false;
  let received = false;
  const parser = createParser({
    onEvent(event) {
      if (event.id) remember(event.id);
      if (event.event === 'log') {
        received = true;
        callbacks.onChunk(JSON.parse(event.data) as LogChunk);
      } else if (event.event === 'end') {
        ended = true;
        callbacks.onEnd(JSON.parse(event.data) as LogEnd);
      }
    },
  });
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parser.feed(value);
    }
  } catch {
    // The connection broke off (or the page left): what was read counts, and the caller reconnects or stops.
  }
  return { ended, received };
}
