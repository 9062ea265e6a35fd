import { THRESHOLD_METRICS, type ThresholdMetric, type WorkerAlerts } from './worker-metrics.ts';

export interface ThresholdSettings {
  /** Percent per metric: at or above it, the metric is in breach. */
  limits: Record<ThresholdMetric, number>;
  /** A breach clears only below `limit − hysteresis`, so a value hovering at the limit raises one alert. */
  hysteresis: number;
}

export type ThresholdChange =
  | { kind: 'exceeded'; metric: ThresholdMetric; value: number; threshold: number; since: string }
  | { kind: 'cleared'; metric: ThresholdMetric; value: number; threshold: number; since: string; clearedAt: string };

/**
 * Decides the alerts from fresh figures: a metric crosses its limit → exceeded (once); it stays in breach until it
 * falls below the limit minus the hysteresis → cleared (once). A metric with no fresh figure keeps its state:
 * a missing datapoint is not evidence that the load went away. Pure.
 */
export function evaluateThresholds(
  current: WorkerAlerts,
  inputs: Partial<Record<ThresholdMetric, number>>,
  settings: ThresholdSettings,
  now: string,
): { alerts: WorkerAlerts; changes: ThresholdChange[] } {
  const alerts: WorkerAlerts = { ...current };
  const changes: ThresholdChange[] = [];
  for (const metric of THRESHOLD_METRICS) {
    const value = inputs[metric];
    if (value === undefined) continue;
    const threshold = settings.limits[metric];
    const breach = current[metric];
    if (!breach && value >= threshold) {
      alerts[metric] = { since: now, value, threshold };
      changes.push({ kind: 'exceeded', metric, value, threshold, since: now });
    } else if (breach && value < breach.threshold - settings.hysteresis) {
      delete alerts[metric];
      changes.push({ kind: 'cleared', metric, value, threshold: breach.threshold, since: breach.since, clearedAt: now });
    }
  }
  return { alerts, changes };
}
