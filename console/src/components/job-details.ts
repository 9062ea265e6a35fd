import { isArgvCommand } from '../../../functions/core/job-command.ts';
import type { Job } from '../api/schemas.ts';
import { formatDuration, formatTime } from '../format.ts';
import { html } from '../html.ts';
import { paths } from '../router.ts';
import { Field } from './common.ts';

/** The command in the form it was submitted: a shell snippet with its $1…$n, or a program and its arguments. */
function Command({ job }: { job: Job }) {
  if (isArgvCommand(job.command)) {
    return html`<div data-testid="command" data-form="argv">
      <p class="muted">Program and arguments, run with no shell</p>
      <ol class="argv">
        ${job.command.map((word, index) => html`<li><span class="muted">${index === 0 ? 'program' : `argv[${index}]`}</span> <code>${word}</code></li>`)}
      </ol>
    </div>`;
  }
  return html`<div data-testid="command" data-form="shell">
    <p class="muted">Shell snippet, run as <code>/bin/sh -c</code></p>
    <pre class="code">${job.command}</pre>
    ${job.args.length
      ? html`<ol class="argv">
          ${job.args.map((arg, index) => html`<li><span class="muted">$${index + 1}</span> <code>${arg}</code></li>`)}
        </ol>`
      : null}
  </div>`;
}

function Pairs({ values, empty }: { values: Record<string, string>; empty: string }) {
  const entries = Object.entries(values);
  if (!entries.length) return html`<span class="muted">${empty}</span>`;
  return html`<ul class="pairs">${entries.map(([key, value]) => html`<li><code>${key}</code> = <code>${value}</code></li>`)}</ul>`;
}

export function JobSpec({ job }: { job: Job }) {
  return html`<section class="card" data-testid="spec">
    <h2>Spec</h2>
    <${Command} job=${job} />
    <dl class="fields">
      <${Field} label="Priority">${job.priority}<//>
      <${Field} label="Worker class">${job.workerClass ?? 'default'}<//>
      <${Field} label="Timeout">${formatDuration(job.timeoutSeconds * 1000)}<//>
      <${Field} label="Max attempts">${job.maxAttempts}<//>
      <${Field} label="Environment"><${Pairs} values=${job.env} empty="none" /><//>
      <${Field} label="Metadata"><${Pairs} values=${job.metadata} empty="none" /><//>
      ${job.callbackUrl ? html`<${Field} label="Callback URL"><code>${job.callbackUrl}</code><//>` : null}
    </dl>
  </section>`;
}

export function JobStatusCard({ job, linkWorkers }: { job: Job; linkWorkers: boolean }) {
  const took = job.startedAt && job.finishedAt ? formatDuration(Date.parse(job.finishedAt) - Date.parse(job.startedAt)) : '–';
  return html`<section class="card">
    <h2>Status</h2>
    <dl class="fields">
      <${Field} label="Attempts"><span data-testid="attempts">${job.attempts} of ${job.maxAttempts} (run ${job.run})</span><//>
      <${Field} label="Submitted">${formatTime(job.createdAt)}${job.createdBy ? html` <span class="muted">by ${job.createdBy}</span>` : null}<//>
      <${Field} label="Started">${formatTime(job.startedAt)}<//>
      <${Field} label="Finished">${formatTime(job.finishedAt)}<//>
      <${Field} label="Ran for">${took}<//>
      <${Field} label="Worker">${job.workerId ? (linkWorkers ? html`<a href=${paths.worker(job.workerId)} class="mono">${job.workerId}</a>` : html`<span class="mono">${job.workerId}</span>`) : '–'}<//>
    </dl>
  </section>`;
}

/** The result, and for a failure what it was, whose problem, and what a person can do. */
export function JobOutcome({ job }: { job: Job }) {
  const { result, failure } = job;
  if (!result && !failure) return null;
  return html`<section class="card" data-testid="outcome">
    <h2>${failure ? 'Failure' : 'Result'}</h2>
    ${result
      ? html`<dl class="fields">
          <${Field} label="Exit code"><span data-testid="exit-code">${result.exitCode ?? '–'}</span><//>
          <${Field} label="Duration">${formatDuration(result.durationMs)}<//>
        </dl>`
      : null}
    ${failure
      ? html`<div class="failure" data-testid="failure">
          <p><code class="error-code">${failure.reason}</code> ${failure.message}</p>
          <p class="muted">${failure.category === 'user' ? 'A problem of the job itself' : 'A problem of the platform'}; ${failure.retryable ? 'a retry can help' : 'a retry will not help'}.</p>
          ${failure.suggestedActions.length
            ? html`<h3>What you can do</h3>
                <ul data-testid="suggested-actions">${failure.suggestedActions.map((action) => html`<li>${action}</li>`)}</ul>`
            : null}
        </div>`
      : null}
  </section>`;
}
