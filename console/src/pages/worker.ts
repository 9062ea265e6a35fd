import { useState } from 'preact/hooks';
import { isPlatformAdmin, seesFleet } from '../../../functions/core/roles.ts';
import type { Actor } from '../../../functions/core/job-service.ts';
import { api } from '../api/client.ts';
import { MonitoringAnswerSchema, WorkerSchema, type Worker } from '../api/schemas.ts';
import { ErrorBox, Field, LiveNote, StatusBadge } from '../components/common.ts';
import { FigureCell, figuresOf, HealthBadge } from '../components/worker-figures.ts';
import { formatAge, formatTime } from '../format.ts';
import { html } from '../html.ts';
import { usePoll } from '../poll.ts';
import { FleetNotice } from './workers.ts';

const REFRESH_MS = 5000;

type Block = NonNullable<Worker['metrics'][keyof Worker['metrics']]>;

/** One source's block (EC2, CloudWatch, agent) as it was read: its figures, or why it has none. */
function SourceBlock({ name, block }: { name: string; block?: Block }) {
  if (!block) return html`<div class="source"><h3>${name}</h3><p class="muted">not read yet</p></div>`;
  const at = 'checkedAt' in block ? block.checkedAt : 'collectedAt' in block ? block.collectedAt : block.reportedAt;
  const { status, ...figures } = block;
  const shown = (value: unknown) => (Array.isArray(value) ? value.join(', ') : typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value));
  return html`<div class="source" data-testid=${`source-${name}`}>
    <h3>${name} <span class="muted small" title=${at}>${status}, ${formatAge(at)}</span></h3>
    <dl class="fields">
      ${Object.entries(figures).map(([key, value]) => html`<${Field} label=${key}>${shown(value)}<//>`)}
    </dl>
  </div>`;
}

interface ControlsProps {
  worker: Worker;
  actor: Actor;
  onWorker: (worker: Worker) => void;
}

/** Refresh for who sees the fleet; detailed monitoring (billed) for platform admins: the API's own role rules. */
function Controls({ worker, actor, onWorker }: ControlsProps) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | undefined>();
  const [cost, setCost] = useState<string | undefined>();
  const id = encodeURIComponent(worker.workerId);
  const run = async (action: () => Promise<void>) => {
    setBusy(true);
    setError(undefined);
    try {
      await action();
    } catch (failure) {
      setError(failure as Error);
    } finally {
      setBusy(false);
    }
  };
  const refresh = () => run(async () => onWorker(await api(`/v1/workers/${id}/refresh`, WorkerSchema, { method: 'POST' })));
  const monitoring = () =>
    run(async () => {
      const answer = await api(`/v1/workers/${id}/monitoring`, MonitoringAnswerSchema, { method: 'POST', body: { enabled: !worker.detailedMonitoring } });
      onWorker(answer.worker);
      setCost(`Detailed monitoring ${answer.monitoring.detailedMonitoring ? 'on' : 'off'}: $${answer.monitoring.monthlyCostUsd.toFixed(2)} a month (${answer.monitoring.pricing})`);
    });
  if (!seesFleet(actor)) return null;
  return html`<div class="actions" data-testid="worker-controls">
    <button type="button" disabled=${busy} onClick=${refresh} data-testid="refresh-worker">Refresh metrics now</button>
    ${isPlatformAdmin(actor)
      ? html`<button type="button" disabled=${busy} onClick=${monitoring} data-testid="toggle-monitoring">
          ${worker.detailedMonitoring ? 'Turn detailed monitoring off' : 'Turn detailed monitoring on'}
        </button>`
      : null}
    ${cost ? html`<span class="muted">${cost}</span>` : null}
    ${error ? html`<${ErrorBox} error=${error} title="The action was refused" />` : null}
  </div>`;
}

/** One worker: where it runs, its health from each source with when it was read, and the controls its roles allow. */
export function WorkerPage({ workerId, actor }: { workerId: string; actor: Actor }) {
  const [fresh, setFresh] = useState<Worker | undefined>();
  const polled = usePoll((signal) => api(`/v1/workers/${encodeURIComponent(workerId)}`, WorkerSchema, { signal }), REFRESH_MS, [workerId], seesFleet(actor));
  if (!seesFleet(actor)) return html`<section><header class="page-head"><h1 class="mono">${workerId}</h1></header><${FleetNotice} actor=${actor} /></section>`;
  // An action's answer shows at once; the next poll replaces it unless it is older.
  const worker = fresh && (!polled.data || fresh.version > polled.data.version) ? fresh : (polled.data ?? fresh);
  if (polled.error && !worker) return html`<section><${ErrorBox} error=${polled.error} title="This worker cannot be shown" /></section>`;
  if (!worker) return html`<p class="muted">Loading ${workerId}…</p>`;
  const figures = figuresOf(worker);
  return html`<section>
    <header class="page-head">
      <h1><span class="mono">${worker.workerId}</span> <${StatusBadge} status=${worker.state} /> <${HealthBadge} worker=${worker} /></h1>
      <${LiveNote} intervalMs=${REFRESH_MS} loading=${polled.loading} />
    </header>
    <${Controls} worker=${worker} actor=${actor} onWorker=${(next: Worker) => (setFresh(next), polled.reload())} />
    <div class="columns">
      <section class="card">
        <h2>Instance</h2>
        <dl class="fields">
          <${Field} label="Class">${worker.class}<//>
          <${Field} label="Instance">${worker.instanceId ?? '–'} ${worker.instanceType ?? ''} ${worker.market ?? ''}<//>
          <${Field} label="AMI">${worker.amiName}<//>
          <${Field} label="Agent">${worker.agentVersion ?? '–'}, last heartbeat ${formatAge(worker.lastHeartbeatAt)}<//>
          <${Field} label="Jobs">${worker.runningJobs} running of ${worker.slots} slots<//>
          <${Field} label="Launched">${formatTime(worker.launchedAt ?? worker.createdAt)}<//>
          <${Field} label="Detailed monitoring"><span data-testid="monitoring">${worker.detailedMonitoring ? 'on (1-minute)' : 'off (5-minute)'}</span><//>
        </dl>
      </section>
      <section class="card">
        <h2>CPU and memory</h2>
        <dl class="fields">
          <${Field} label="CPU"><${FigureCell} figure=${figures.cpu} alert=${'cpu' in worker.alerts} /><//>
          <${Field} label="Memory"><${FigureCell} figure=${figures.memory} alert=${'memory' in worker.alerts} /><//>
        </dl>
      </section>
    </div>
    <section class="card">
      <h2>Sources</h2>
      <div class="sources">
        <${SourceBlock} name="EC2" block=${worker.metrics.ec2} />
        <${SourceBlock} name="CloudWatch" block=${worker.metrics.cloudWatch} />
        <${SourceBlock} name="agent" block=${worker.metrics.agent} />
      </div>
    </section>
  </section>`;
}
