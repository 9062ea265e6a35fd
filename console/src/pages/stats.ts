import { useState } from 'preact/hooks';
import { TERMINAL_STATUSES } from '../../../functions/core/job-status.ts';
import { PRIORITIES } from '../../../functions/core/priority.ts';
import { isPlatformAdmin } from '../../../functions/core/roles.ts';
import type { Actor } from '../../../functions/core/job-service.ts';
import { api } from '../api/client.ts';
import { StatsSchema, type Stats } from '../api/schemas.ts';
import { ErrorBox, LiveNote, StatusBadge } from '../components/common.ts';
import { ThroughputChart } from '../components/throughput-chart.ts';
import { html } from '../html.ts';
import { usePoll } from '../poll.ts';
import { throughputBuckets } from '../throughput.ts';
import { recentJobs } from './stats-data.ts';

const STATS_REFRESH_MS = 5000;
const CHART_REFRESH_MS = 15_000;

function PriorityTable({ stats }: { stats: Stats }) {
  return html`<table class="grid narrow" data-testid="priority-table">
    <thead><tr><th>Priority</th><th>Queued</th><th>Running</th></tr></thead>
    <tbody>
      ${PRIORITIES.map((p) => html`<tr><td>${p}</td><td data-testid=${`queued-${p}`}>${stats.queued[p] ?? 0}</td><td data-testid=${`running-${p}`}>${stats.running[p] ?? 0}</td></tr>`)}
    </tbody>
  </table>`;
}

function Totals({ stats }: { stats: Stats }) {
  return html`<div class="totals">
    ${TERMINAL_STATUSES.map(
      (status) => html`<div class="total" data-testid=${`total-${status}`}>
        <${StatusBadge} status=${status} />
        <span class="figure">${stats.totals[status] ?? 0}</span>
      </div>`,
    )}
  </div>`;
}

function Throughput({ scope }: { scope: string }) {
  const recent = usePoll((signal) => recentJobs(signal), CHART_REFRESH_MS, []);
  if (scope === 'global') return html`<p class="muted">The throughput chart shows your tenant's jobs: the job list is per tenant.</p>`;
  const buckets = recent.data ? throughputBuckets(recent.data.jobs, Date.now()) : [];
  const total = buckets.reduce((sum, b) => sum + b.total, 0);
  return html`<div>
    ${recent.error ? html`<${ErrorBox} error=${recent.error} title="The throughput could not be computed" />` : null}
    ${recent.data ? html`<${ThroughputChart} buckets=${buckets} />` : html`<p class="muted">Loading…</p>`}
    <p class="muted small" data-testid="throughput-total">
      ${total} job${total === 1 ? '' : 's'} ended in the last hour${recent.data?.truncated ? ' (at least: only the newest 1,000 submissions were read)' : ''}.
      Counted from each job's finish time in the job list.
    </p>
    <div class="legend">${TERMINAL_STATUSES.map((s) => html`<span><i class=${`swatch status-${s}`}></i>${s.replace('_', ' ').toLowerCase()}</span>`)}</div>
  </div>`;
}

/** Queue depth and running jobs per priority, totals per way of ending, and the last hour's throughput. */
export function StatsPage({ actor }: { actor: Actor }) {
  const [scope, setScope] = useState<'tenant' | 'global'>('tenant');
  const stats = usePoll((signal) => api('/v1/queues/stats', StatsSchema, { query: { scope }, signal }), STATS_REFRESH_MS, [scope]);
  return html`<section>
    <header class="page-head">
      <h1>Stats</h1>
      <${LiveNote} intervalMs=${STATS_REFRESH_MS} loading=${stats.loading} />
    </header>
    ${isPlatformAdmin(actor)
      ? html`<div class="toolbar">
          <label>scope
            <select name="scope" value=${scope} onChange=${(e: Event) => setScope((e.target as HTMLSelectElement).value as 'tenant' | 'global')}>
              <option value="tenant">my tenant</option>
              <option value="global">the whole platform</option>
            </select>
          </label>
        </div>`
      : null}
    ${stats.error ? html`<${ErrorBox} error=${stats.error} title="The stats could not be read" />` : null}
    ${stats.data
      ? html`<div class="columns">
          <section class="card"><h2>Waiting and running</h2><${PriorityTable} stats=${stats.data} /></section>
          <section class="card"><h2>Ended, all time</h2><${Totals} stats=${stats.data} /></section>
        </div>`
      : null}
    <section class="card">
      <h2>Throughput, last hour</h2>
      <${Throughput} scope=${scope} />
    </section>
  </section>`;
}
