import type { Worker } from '../api/schemas.ts';
import { formatAge, percent } from '../format.ts';
import { html } from '../html.ts';

export interface Figure {
  value: number;
  /** When the source read it. */
  at: string;
  source: 'CloudWatch' | 'agent';
}

/**
 * CPU and memory with where and when they were read: CloudWatch's where it answered, else the agent's process
 * figures (the local runtime). The same precedence as thresholdInputs in functions/core/fleet/worker-metrics.ts,
 * which judges alerts on these figures; here each figure also keeps its time.
 */
export function figuresOf(worker: Worker): { cpu?: Figure; memory?: Figure } {
  const { cloudWatch: cw, agent } = worker.metrics;
  const out: { cpu?: Figure; memory?: Figure } = {};
  if (cw?.status === 'ok') {
    if (cw.cpuUtilization !== null) out.cpu = { value: cw.cpuUtilization, at: cw.collectedAt, source: 'CloudWatch' };
    if (cw.memoryUtilization !== null) out.memory = { value: cw.memoryUtilization, at: cw.collectedAt, source: 'CloudWatch' };
  }
  if (agent?.status === 'ok' && agent.process) {
    out.cpu ??= { value: agent.process.cpuPercent, at: agent.reportedAt, source: 'agent' };
    out.memory ??= { value: agent.process.memoryPercent, at: agent.reportedAt, source: 'agent' };
  }
  return out;
}

export function FigureCell({ figure, alert }: { figure?: Figure; alert: boolean }) {
  if (!figure) return html`<span class="muted">–</span>`;
  return html`<span class=${alert ? 'alert' : ''}>${percent(figure.value)}</span>
    <div class="muted small" title=${figure.at}>${figure.source}, ${formatAge(figure.at)}</div>`;
}

/** One word for the worker's state of health: status checks, thresholds and heartbeat together. */
export function healthOf(worker: Worker): { label: string; tone: 'ok' | 'warn' | 'bad' | 'idle' } {
  if (['TERMINATED', 'FAILED'].includes(worker.state)) return { label: 'gone', tone: 'idle' };
  const alerts = Object.keys(worker.alerts);
  if (alerts.length) return { label: `over threshold: ${alerts.join(', ')}`, tone: 'warn' };
  const ec2 = worker.metrics.ec2;
  if (ec2?.status === 'ok' && (ec2.systemStatus === 'impaired' || ec2.instanceStatus === 'impaired')) return { label: 'status check impaired', tone: 'bad' };
  if (ec2?.status === 'error' || worker.metrics.agent?.status === 'error') return { label: 'metrics unavailable', tone: 'warn' };
  if (worker.state !== 'READY') return { label: worker.state.toLowerCase(), tone: 'idle' };
  return { label: 'healthy', tone: 'ok' };
}

export function HealthBadge({ worker }: { worker: Worker }) {
  const health = healthOf(worker);
  return html`<span class=${`badge health-${health.tone}`} data-testid="health">${health.label}</span>`;
}
