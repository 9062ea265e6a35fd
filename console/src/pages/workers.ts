import { useState } from 'preact/hooks';
import { WORKER_STATES } from '../../../functions/core/fleet/worker-state.ts';
import { ROLES, seesFleet } from '../../../functions/core/roles.ts';
import type { Actor } from '../../../functions/core/job-service.ts';
import { api } from '../api/client.ts';
import { WorkerPageSchema, type Worker } from '../api/schemas.ts';
import { ErrorBox, LiveNote, Pager, StatusBadge, useCursorPages } from '../components/common.ts';
import { FigureCell, figuresOf, HealthBadge } from '../components/worker-figures.ts';
import { html } from '../html.ts';
import { usePoll } from '../poll.ts';
import { paths } from '../router.ts';

const REFRESH_MS = 5000;

/** What someone outside the fleet's roles sees instead of a 403: who may, and which groups they have. */
export function FleetNotice({ actor }: { actor: Actor }) {
  return html`<div class="notice" data-testid="fleet-notice">
    <p>The worker fleet is shown to platform admins (<code>${ROLES.PLATFORM_ADMIN.name}</code>) and operators (<code>${ROLES.OPERATOR.name}</code>).</p>
    <p class="muted">Your groups: ${actor.groups.length ? actor.groups.join(', ') : 'none'}.</p>
  </div>`;
}

function Row({ worker }: { worker: Worker }) {
  const figures = figuresOf(worker);
  return html`<tr data-testid="worker-row">
    <td><a class="mono" href=${paths.worker(worker.workerId)}>${worker.workerId}</a></td>
    <td><${StatusBadge} status=${worker.state} /></td>
    <td>${worker.class}</td>
    <td>${worker.instanceType ?? '–'}${worker.market ? html` <span class="muted">${worker.market}</span>` : null}</td>
    <td>${worker.amiName}</td>
    <td><${HealthBadge} worker=${worker} /></td>
    <td><${FigureCell} figure=${figures.cpu} alert=${'cpu' in worker.alerts} /></td>
    <td><${FigureCell} figure=${figures.memory} alert=${'memory' in worker.alerts} /></td>
    <td>${worker.runningJobs} / ${worker.slots}</td>
  </tr>`;
}

function WorkerList({ state }: { state: string }) {
  const pages = useCursorPages(state);
  const cursor = pages.cursor;
  const workers = usePoll((signal) => api('/v1/workers', WorkerPageSchema, { query: { state, cursor, limit: '20' }, signal }), REFRESH_MS, [state, cursor]);
  const page = workers.data;
  return html`
    <${LiveNote} intervalMs=${REFRESH_MS} loading=${workers.loading} />
    ${workers.error ? html`<${ErrorBox} error=${workers.error} title="The workers could not be listed" />` : null}
    ${page
      ? html`<table class="grid" data-testid="workers-table">
          <thead>
            <tr><th>Worker</th><th>State</th><th>Class</th><th>Instance type</th><th>AMI</th><th>Health</th><th>CPU</th><th>Memory</th><th>Jobs</th></tr>
          </thead>
          <tbody>
            ${page.items.length ? page.items.map((worker) => html`<${Row} key=${worker.workerId} worker=${worker} />`) : html`<tr><td colspan="9" class="empty">No workers.</td></tr>`}
          </tbody>
        </table>`
      : null}
    <${Pager} ...${pages.pagerProps(page?.nextCursor)} />`;
}

/** The fleet: every worker with its state, class, instance, health and latest CPU and memory. */
export function WorkersPage({ actor }: { actor: Actor }) {
  const [state, setState] = useState('');
  return html`<section>
    <header class="page-head"><h1>Workers</h1></header>
    ${seesFleet(actor)
      ? html`<div class="toolbar">
            <label>state
              <select name="state" value=${state} onChange=${(e: Event) => setState((e.target as HTMLSelectElement).value)}>
                <option value="">all</option>
                ${WORKER_STATES.map((s) => html`<option value=${s}>${s}</option>`)}
              </select>
            </label>
          </div>
          <${WorkerList} key=${state} state=${state} />`
      : html`<${FleetNotice} actor=${actor} />`}
  </section>`;
}
