import { useEffect, useRef, useState } from 'preact/hooks';
import type { ApiError } from '../api/client.ts';
import { html } from '../html.ts';
import { followLogs, type LogChunk, type LogEnd } from '../logs.ts';
import { ErrorBox } from './common.ts';

type Mode = { kind: 'following' } | { kind: 'ended'; end: LogEnd } | { kind: 'unavailable' } | { kind: 'failed'; error: ApiError };

/** The chunks in order, with a line where a new attempt starts. */
function logText(chunks: readonly LogChunk[]): string {
  let text = '';
  let attempt: number | undefined;
  for (const chunk of chunks) {
    if (attempt !== undefined && chunk.attempt !== attempt) text += `\n── attempt ${chunk.attempt} ──\n`;
    attempt = chunk.attempt;
    text += chunk.text;
  }
  return text;
}

function noteOf(mode: Mode): string {
  switch (mode.kind) {
    case 'following':
      return 'following…';
    case 'ended':
      return `ended: ${mode.end.status}${mode.end.exitCode === undefined || mode.end.exitCode === null ? '' : `, exit ${mode.end.exitCode}`}`;
    case 'unavailable':
      return 'no log stream on this API: the output tail of the last attempt, once it ends';
    default:
      return 'the log stream failed';
  }
}

/**
 * The job's output as it is written, from the log stream; where the API has none, the output tail the agent sent
 * with the attempt's result (known once the attempt ends).
 */
export function LogView({ jobId, outputTail }: { jobId: string; outputTail?: string }) {
  const [chunks, setChunks] = useState<LogChunk[]>([]);
  const [mode, setMode] = useState<Mode>({ kind: 'following' });
  const [warning, setWarning] = useState<ApiError | undefined>();
  const box = useRef<HTMLPreElement>(null);

  useEffect(() => {
    const controller = new AbortController();
    const seen = new Set<string>();
    setChunks([]);
    setMode({ kind: 'following' });
    void followLogs(
      jobId,
      {
        onChunk: (chunk) => {
          // A reconnect may repeat what was already shown; attempt and sequence name a chunk.
          const key = `${chunk.attempt}:${chunk.seq}`;
          if (seen.has(key)) return;
          seen.add(key);
          setWarning(undefined);
          setChunks((all) => [...all, chunk]);
        },
        onEnd: (end) => setMode({ kind: 'ended', end }),
        onUnavailable: () => setMode({ kind: 'unavailable' }),
        onError: (error) => (error.status === 0 || error.status === 429 || error.status >= 500 ? setWarning(error) : setMode({ kind: 'failed', error })),
      },
      controller.signal,
    );
    return () => controller.abort();
  }, [jobId]);

  useEffect(() => {
    const element = box.current;
    if (element) element.scrollTop = element.scrollHeight;
  }, [chunks, outputTail]);

  const streamed = mode.kind !== 'unavailable';
  const shown = streamed ? logText(chunks) : (outputTail ?? '');
  return html`<section class="card">
    <h2>Logs <span class="muted small" data-testid="log-mode" data-mode=${mode.kind}>${noteOf(mode)}</span></h2>
    ${mode.kind === 'failed' ? html`<${ErrorBox} error=${mode.error} title="The logs could not be read" />` : null}
    ${warning ? html`<p class="muted small">Reconnecting: ${warning.message}</p>` : null}
    <pre class="logs" ref=${box} data-testid="logs">${shown || html`<span class="muted">${streamed ? 'No output yet.' : 'No output yet: it appears when the attempt ends.'}</span>`}</pre>
  </section>`;
}
