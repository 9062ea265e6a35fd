import { useState } from 'preact/hooks';
import { JOB_STATUSES } from '../../../functions/core/job-status.ts';
import { PRIORITIES } from '../../../functions/core/priority.ts';
import { api } from '../api/client.ts';
import { JobPageSchema, type JobSummary } from '../api/schemas.ts';
import { ErrorBox, LiveNote, Pager, StatusBadge, useCursorPages } from '../components/common.ts';
import { SubmitJobForm } from '../components/submit-form.ts';
import { formatDuration, formatTime } from '../format.ts';
import { html } from '../html.ts';
import { usePoll } from '../poll.ts';
import { navigate, paths } from '../router.ts';

const REFRESH_MS = 3000;
const PAGE_SIZE = '20';

function duration(job: JobSummary, now: number): string {
  if (!job.startedAt) return '–';
  const end = job.finishedAt ? Date.parse(job.finishedAt) : now;
  return `${formatDuration(end - Date.parse(job.startedAt))}${job.finishedAt ? '' : ' (running)'}`;
}

function Row({ job, now }: { job: JobSummary; now: number }) {
  return html`<tr data-testid="job-row" data-job-id=${job.jobId}>
    <td><a href=${paths.job(job.jobId)} class="mono">${job.jobId}</a></td>
    <td><${StatusBadge} status=${job.status} />${job.cancelRequested && !job.finishedAt ? html` <span class="muted">cancel requested</span>` : null}</td>
    <td>${job.priority}</td>
    <td>${job.workerClass ?? 'default'}</td>
    <td>${job.attempts} / ${job.maxAttempts}${job.run > 1 ? html` <span class="muted">(run ${job.run})</span>` : null}</td>
    <td>${formatTime(job.createdAt)}</td>
    <td>${duration(job, now)}</td>
    <td>${job.failure ? html`<code>${job.failure.reason}</code>` : null}</td>
  </tr>`;
}

function Filter({ name, value, options, onChange }: { name: string; value: string; options: readonly string[]; onChange: (value: string) => void }) {
  return html`<label>
    ${name}
    <select name=${name} value=${value} onChange=${(e: Event) => onChange((e.target as HTMLSelectElement).value)}>
      <option value="">all</option>
      ${options.map((option) => html`<option value=${option}>${option}</option>`)}
    </select>
  </label>`;
}

/** The tenant's jobs, newest first, filtered by status and priority, refreshed while the tab is visible. */
export function JobsPage({ search }: { search: URLSearchParams }) {
  const status = search.get('status') ?? '';
  const priority = search.get('priority') ?? '';
  const [composing, setComposing] = useState(false);
  const pages = useCursorPages(`${status}|${priority}`);
  const cursor = pages.cursor;

  const jobs = usePoll(
    (signal) => api('/v1/jobs', JobPageSchema, { query: { status, priority, cursor, limit: PAGE_SIZE }, signal }),
    REFRESH_MS,
    [status, priority, cursor],
  );

  const setFilter = (name: string, value: string) => {
    const next = new URLSearchParams(search);
    if (value) next.set(name, value);
    else next.delete(name);
    navigate(paths.jobs(next), true);
  };
  const now = Date.now();
  const page = jobs.data;

  return html`<section>
    <header class="page-head">
      <h1>Jobs</h1>
      <div class="head-actions">
        <${LiveNote} intervalMs=${REFRESH_MS} loading=${jobs.loading} />
        ${composing ? null : html`<button type="button" data-testid="new-job" onClick=${() => setComposing(true)}>New job</button>`}
      </div>
    </header>
    ${composing ? html`<${SubmitJobForm} onClose=${() => setComposing(false)} />` : null}
    <div class="toolbar">
      <${Filter} name="status" value=${status} options=${JOB_STATUSES} onChange=${(v: string) => setFilter('status', v)} />
      <${Filter} name="priority" value=${priority} options=${PRIORITIES} onChange=${(v: string) => setFilter('priority', v)} />
    </div>
    ${jobs.error ? html`<${ErrorBox} error=${jobs.error} title="The jobs could not be listed" />` : null}
    ${page
      ? html`<table class="grid" data-testid="jobs-table">
          <thead>
            <tr><th>Job</th><th>Status</th><th>Priority</th><th>Class</th><th>Attempts</th><th>Created</th><th>Duration</th><th>Failure</th></tr>
          </thead>
          <tbody>
            ${page.items.length
              ? page.items.map((job) => html`<${Row} key=${job.jobId} job=${job} now=${now} />`)
              : html`<tr><td colspan="8" class="empty">No jobs${status || priority ? ' match these filters' : ' yet'}.</td></tr>`}
          </tbody>
        </table>`
      : null}
    <${Pager} ...${pages.pagerProps(page?.nextCursor)} />
  </section>`;
}
