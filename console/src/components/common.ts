import { useState } from 'preact/hooks';
import { ApiError } from '../api/client.ts';
import { html } from '../html.ts';

/** Hints for the codes a person can act on; the API's own message always comes first. */
const HINTS: Record<string, string> = {
  UNAUTHORIZED: 'The token was refused: sign in again (or pick a persona).',
  FORBIDDEN: 'Your groups do not allow this.',
  JOB_NOT_FOUND: 'No job with this id exists in your tenant.',
  WORKER_NOT_FOUND: 'No worker with this id exists.',
  RATE_LIMITED: 'Too many requests for your tenant: the console tries again on its next refresh.',
  // Only a submit form's own key can be reused: its first submit created a job, and the form was changed since.
  IDEMPOTENCY_KEY_REUSED: 'This form already created a job (details.jobId): open it from the list, or open a new form.',
  NETWORK_ERROR: 'Check that the API is running and reachable.',
};

function detailValue(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value, null, 1);
}

/** Any error the console met, shown as the API states it: code, message, details. */
export function ErrorBox({ error, title }: { error: Error; title?: string }) {
  const api = error instanceof ApiError ? error : new ApiError(0, 'CONSOLE_ERROR', error.message);
  const details = Object.entries(api.details);
  return html`<div class="error" role="alert" data-testid="error">
    <div class="error-head">
      ${title ? html`<strong>${title}</strong>` : null}
      <code class="error-code">${api.code}</code>
      ${api.status ? html`<span class="muted">HTTP ${api.status}</span>` : null}
    </div>
    <p class="error-message">${api.message}</p>
    ${HINTS[api.code] ? html`<p class="muted">${HINTS[api.code]}</p>` : null}
    ${details.length
      ? html`<dl class="error-details">
          ${details.map(([key, value]) => html`<dt>${key}</dt><dd><pre>${detailValue(value)}</pre></dd>`)}
        </dl>`
      : null}
  </div>`;
}

export function StatusBadge({ status }: { status: string }) {
  return html`<span class=${`badge status-${status}`} data-testid="status">${status.replace(/_/g, ' ')}</span>`;
}

export interface PagerProps {
  hasPrevious: boolean;
  hasNext: boolean;
  onPrevious: () => void;
  onNext: () => void;
  page: number;
}

/** Cursor pagination: the API gives only "next"; "previous" goes back through the cursors this page has seen. */
export function Pager({ hasPrevious, hasNext, onPrevious, onNext, page }: PagerProps) {
  return html`<nav class="pager" aria-label="Pages">
    <button type="button" onClick=${onPrevious} disabled=${!hasPrevious}>← Previous</button>
    <span class="muted">Page ${page}</span>
    <button type="button" onClick=${onNext} disabled=${!hasNext}>Next →</button>
  </nav>`;
}

/**
 * The cursors of the pages seen, to go back: the API's cursors only go forward. They start over when `filterKey`
 * (the list's filters) changes, since a cursor belongs to the query that gave it.
 */
export function useCursorPages(filterKey: string) {
  const [cursors, setCursors] = useState<{ key: string; stack: (string | undefined)[] }>({ key: filterKey, stack: [undefined] });
  const stack = cursors.key === filterKey ? cursors.stack : [undefined];
  return {
    cursor: stack.at(-1),
    /** The Pager's props for the page on screen, given the cursor that page offered for the next. */
    pagerProps: (nextCursor: string | null | undefined): PagerProps => ({
      page: stack.length,
      hasPrevious: stack.length > 1,
      hasNext: Boolean(nextCursor),
      onPrevious: () => setCursors({ key: filterKey, stack: stack.slice(0, -1) }),
      onNext: () => {
        if (nextCursor) setCursors({ key: filterKey, stack: [...stack, nextCursor] });
      },
    }),
  };
}

/** When the data on screen was loaded, so a stale view is visible as such. */
export function LiveNote({ intervalMs, loading, live = true }: { intervalMs: number; loading: boolean; live?: boolean }) {
  return html`<span class="live muted" data-testid="live">
    <span class=${`dot ${live ? 'on' : ''}`}></span>${live ? `live, every ${intervalMs / 1000} s` : 'not refreshing'}${loading ? ' · loading…' : ''}
  </span>`;
}

export function Field({ label, children }: { label: string; children: unknown }) {
  return html`<div class="field"><dt>${label}</dt><dd>${children}</dd></div>`;
}
