import { useState } from 'preact/hooks';
import { canCancel, canRetry } from '../../../functions/core/job-actions.ts';
import { isTerminal } from '../../../functions/core/job-status.ts';
import { seesFleet } from '../../../functions/core/roles.ts';
import type { Actor } from '../../../functions/core/job-service.ts';
import { api } from '../api/client.ts';
import { EventPageSchema, JobSchema, type Job, type JobEvent } from '../api/schemas.ts';
import { ErrorBox, LiveNote, StatusBadge } from '../components/common.ts';
import { JobOutcome, JobSpec, JobStatusCard } from '../components/job-details.ts';
import { LogView } from '../components/log-view.ts';
import { Timeline } from '../components/timeline-view.ts';
import { html } from '../html.ts';
import { usePoll } from '../poll.ts';
import { paths } from '../router.ts';

const REFRESH_MS = 2000;
/** A job's history is short; this bounds what one page view reads even for a job retried many times. */
const MAX_EVENT_PAGES = 10;

async function allEvents(jobId: string, signal: AbortSignal): Promise<JobEvent[]> {
  const events: JobEvent[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_EVENT_PAGES; page++) {
    const answer = await api(`/v1/jobs/${encodeURIComponent(jobId)}/events`, EventPageSchema, { query: { limit: '100', cursor }, signal });
    events.push(...answer.items);
    if (!answer.nextCursor) break;
    cursor = answer.nextCursor;
  }
  return events;
}

function Actions({ job, onDone }: { job: Job; onDone: (job: Job) => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | undefined>();
  const act = async (method: string, path: string) => {
    setBusy(true);
    setError(undefined);
    try {
      onDone(await api(path, JobSchema, { method }));
    } catch (failure) {
      setError(failure as Error);
    } finally {
      setBusy(false);
    }
  };
  const id = encodeURIComponent(job.jobId);
  // The same rules the API applies (functions/core/job-actions.ts): a button shows only where the API would agree.
  const cancellable = canCancel(job.status) && !job.cancelRequested;
  return html`<div class="actions">
    ${cancellable ? html`<button type="button" class="danger" disabled=${busy} onClick=${() => act('DELETE', `/v1/jobs/${id}`)}>Cancel job</button>` : null}
    ${canRetry(job.status) ? html`<button type="button" disabled=${busy} onClick=${() => act('POST', `/v1/jobs/${id}/retry`)}>Retry job</button>` : null}
    ${job.cancelRequested && !isTerminal(job.status) ? html`<span class="muted" data-testid="cancel-requested">Cancel requested: the worker is stopping it</span>` : null}
    ${error ? html`<${ErrorBox} error=${error} title="The action was refused" />` : null}
  </div>`;
}

/** One job: what was asked, where it stands, its saga timeline and its output, with cancel and retry. */
export function JobPage({ jobId, actor }: { jobId: string; actor: Actor }) {
  const [override, setOverride] = useState<Job | undefined>();
  const job = usePoll((signal) => api(`/v1/jobs/${encodeURIComponent(jobId)}`, JobSchema, { signal }), REFRESH_MS, [jobId]);
  const current = override && job.data && override.version > job.data.version ? override : (job.data ?? override);
  const ended = current ? isTerminal(current.status) : false;
  // The events load again whenever the job moves, and keep polling while it runs.
  const events = usePoll((signal) => allEvents(jobId, signal), REFRESH_MS, [jobId, current?.status, current?.attempts, current?.cancelRequested], !ended);

  if (job.error && !current) {
    return html`<section>
      <header class="page-head"><h1 class="mono">${jobId}</h1></header>
      <${ErrorBox} error=${job.error} title="This job cannot be shown" />
      <p><a href=${paths.jobs()}>Back to the jobs</a></p>
    </section>`;
  }
  if (!current) return html`<p class="muted">Loading ${jobId}…</p>`;
  return html`<section>
    <header class="page-head">
      <h1><span class="mono" data-testid="job-id">${current.jobId}</span> <${StatusBadge} status=${current.status} /></h1>
      <${LiveNote} intervalMs=${REFRESH_MS} loading=${job.loading} live=${!ended} />
    </header>
    <${Actions} job=${current} onDone=${(next: Job) => (setOverride(next), job.reload())} />
    ${job.error ? html`<${ErrorBox} error=${job.error} title="The job could not be refreshed" />` : null}
    <div class="columns">
      <${JobSpec} job=${current} />
      <${JobStatusCard} job=${current} linkWorkers=${seesFleet(actor)} />
    </div>
    <${JobOutcome} job=${current} />
    ${events.error ? html`<${ErrorBox} error=${events.error} title="The timeline could not be read" />` : null}
    <${Timeline} events=${events.data ?? []} ended=${ended} now=${Date.now()} />
    <${LogView} jobId=${current.jobId} outputTail=${current.result?.outputTail} />
  </section>`;
}
