import { EventSourceParserStream } from 'eventsource-parser/stream';
import { apiErrorOf, ForgeflowUnsupportedError } from './errors.ts';
import { sleep, withRetry, type RetryOptions } from './retry.ts';
import type { Transport } from './transport.ts';
import type { LogChunk, LogEnd } from './types.ts';

export interface FollowOptions {
  signal?: AbortSignal;
  /** Resume after this event (the `id` of the last chunk seen), e.g. from an earlier follow. */
  lastEventId?: string;
  /** The wait before reconnecting after a stream that brought nothing, unless the server sets `retry:` (default 1 s). */
  reconnectDelayMs?: number;
}

/**
 * The job's output as it is written, from the logs SSE endpoint, until its `end` event (returned as the generator's
 * value). A response may end without `end` (API Gateway does not stream, so the server closes each response after a
 * while): the stream is opened again with `Last-Event-ID`, so no chunk is lost or repeated.
 */
export async function* followLogs(transport: Transport, jobId: string, options: FollowOptions & { retry?: RetryOptions } = {}): AsyncGenerator<LogChunk, LogEnd> {
  const { signal } = options;
  let lastEventId = options.lastEventId;
  let reconnectMs = options.reconnectDelayMs ?? 1000;
  for (;;) {
    const response = await open(transport, jobId, lastEventId, options);
    let received = false;
    const messages = response.body!.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream({ onRetry: (ms) => (reconnectMs = ms) }));
    try {
      for await (const message of messages) {
        if (message.event === 'end') return JSON.parse(message.data) as LogEnd;
        if (message.event !== 'log') continue;
        if (message.id) lastEventId = message.id;
        received = true;
        yield JSON.parse(message.data) as LogChunk;
      }
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      // The connection broke mid-stream: like a response that ended, it is picked up again from the last id.
      if (!(error instanceof TypeError)) throw error;
    }
    if (!received) await sleep(reconnectMs, signal);
  }
}

async function open(transport: Transport, jobId: string, lastEventId: string | undefined, options: FollowOptions & { retry?: RetryOptions }): Promise<Response> {
  const headers: Record<string, string> = { accept: 'text/event-stream', ...(lastEventId ? { 'last-event-id': lastEventId } : {}) };
  return withRetry(async () => {
    const response = await transport.send('GET', `/v1/jobs/${encodeURIComponent(jobId)}/logs`, { query: { follow: 'true' }, headers, signal: options.signal });
    if (!response.ok) throw await apiErrorOf(response);
    const type = response.headers.get('content-type') ?? '';
    if (!type.startsWith('text/event-stream') || !response.body) {
      await response.body?.cancel();
      throw new ForgeflowUnsupportedError('This server does not stream job logs (GET /v1/jobs/{id}/logs?follow=true)');
    }
    return response;
  }, { ...options.retry, ...(options.signal ? { signal: options.signal } : {}) });
}
