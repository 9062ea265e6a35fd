import type { JobEvent } from '../api/schemas.ts';
import { formatDuration, formatTime } from '../format.ts';
import { html } from '../html.ts';
import { phasesOf, timelineOf } from '../timeline.ts';
import { StatusBadge } from './common.ts';

/** The saga as it happened: a bar of the statuses the job passed through, then each event with its durations. */
export function Timeline({ events, ended, now }: { events: JobEvent[]; ended: boolean; now: number }) {
  const entries = timelineOf(events);
  const phases = phasesOf(entries, ended, now);
  const total = phases.reduce((sum, phase) => sum + phase.durationMs, 0) || 1;
  return html`<section class="card">
    <h2>Timeline</h2>
    ${phases.length
      ? html`<div class="phases" aria-label="Time in each status">
          ${phases.map(
            (phase) =>
              html`<div class=${`phase status-${phase.status}`} style=${{ flexGrow: String(Math.max(phase.durationMs / total, 0.04)) }} title=${`${phase.status}: ${formatDuration(phase.durationMs)}`}>
                <span>${phase.status.replace(/_/g, ' ').toLowerCase()} ${formatDuration(phase.durationMs)}${phase.open ? '…' : ''}</span>
              </div>`,
          )}
        </div>`
      : null}
    <ol class="timeline" data-testid="timeline">
      ${entries.map(
        (entry) => html`<li data-testid="timeline-entry" data-type=${entry.type}>
          <span class="when" title=${formatTime(entry.time)}>+${formatDuration(entry.sinceStart)}</span>
          <span class="what"><strong>${entry.type}</strong> ${entry.status ? html`<${StatusBadge} status=${entry.status} />` : null}
            ${entry.attempts !== undefined ? html`<span class="muted">attempt ${entry.attempts}</span>` : null}</span>
          <span class="detail">${entry.detail}</span>
          <span class="gap muted">${entry.sincePrevious === null ? '' : `${formatDuration(entry.sincePrevious)} after the previous`}</span>
        </li>`,
      )}
    </ol>
    ${entries.length ? null : html`<p class="muted">No events yet.</p>`}
  </section>`;
}
