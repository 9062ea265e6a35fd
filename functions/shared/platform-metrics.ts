import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { MetricObservation } from '../core/platform-metrics.ts';
import { PLATFORM_METRICS, type MetricUnitName, type PlatformMetricName } from '../declarations/metrics.ts';

/** The dimension names a metric is declared with. */
export type DeclaredDimension<N extends PlatformMetricName> = (typeof PLATFORM_METRICS)[N]['dimensions'][number];

/**
 * Exactly the declared dimensions of a metric, each with its value: a missing or extra name does not compile. A
 * metric without dimensions takes `{}` only (`Record<string, never>`: an empty mapped type would accept anything).
 */
export type PlatformDimensions<N extends PlatformMetricName> = [DeclaredDimension<N>] extends [never]
  ? Readonly<Record<string, never>>
  : { readonly [D in DeclaredDimension<N>]: string };

const UNITS: Record<MetricUnitName, (typeof MetricUnit)[keyof typeof MetricUnit]> = {
  Count: MetricUnit.Count,
  Milliseconds: MetricUnit.Milliseconds,
  Percent: MetricUnit.Percent,
};

/** A metric emitted other than as declared; thrown only under the test runner (see `reject`). */
export class InvalidMetricError extends Error {
  override name = 'InvalidMetricError';
}

/**
 * Emits one value of a declared metric, with its unit and exactly its declared dimension set.
 *
 * Each value goes out as its own EMF document (Powertools `singleMetric()`): the dimensions of one document apply to
 * every metric in it, and our metrics each have their own set. The handler's default dimensions (Powertools' own
 * `service`) are cleared, because CloudWatch identifies a metric by all its dimensions: with `service` added, the
 * dashboard and alarms, which read the declared set, would find nothing, and a metric several functions emit
 * (InboxProcessed) would split per function.
 */
export function emitMetric<N extends PlatformMetricName>(metrics: Metrics, name: N, value: number, dimensions: PlatformDimensions<N>): void {
  emitChecked(metrics, name, value, dimensions);
}

/** Emits observations of declared metrics, such as `observationsOfEvent` gives. */
export function emitObservations(metrics: Metrics, observations: readonly MetricObservation[]): void {
  for (const { metric, value, dimensions } of observations) emitChecked(metrics, metric, value, dimensions);
}

/**
 * The domain's `MetricsRecorder` (core/platform-metrics.ts), for code that measures a declared metric itself; kept
 * structural here so this module depends on the declaration only.
 */
export function metricsRecorder(metrics: Metrics): (metric: PlatformMetricName, value: number, dimensions: Readonly<Record<string, string>>) => void {
  return (metric, value, dimensions) => emitChecked(metrics, metric, value, dimensions);
}

function emitChecked(metrics: Metrics, name: PlatformMetricName, value: number, dimensions: Readonly<Record<string, string>>): void {
  // Declared names are a compile-time matter, except for observations built from data.
  const declared = Object.hasOwn(PLATFORM_METRICS, name) ? PLATFORM_METRICS[name] : undefined;
  if (!declared) return reject(name, 'it is not declared in PLATFORM_METRICS', dimensions);
  const problem = dimensionProblem(declared.dimensions, dimensions) ?? (Number.isFinite(value) ? undefined : `value ${value} is not a finite number`);
  if (problem) return reject(name, problem, dimensions);
  const single = singleMetricOf(metrics);
  single.clearDefaultDimensions();
  // Declared order, so every document of a metric lists its dimension set the same way.
  single.addDimensions(Object.fromEntries(declared.dimensions.map((d) => [d, dimensions[d]!])));
  single.addMetric(name, UNITS[declared.unit], value);
}

/**
 * One single-metric instance per handler's Metrics, reused: `singleMetric()` builds a whole Metrics (and a Console)
 * each call, which for the relay's few documents per event was most of what emitting cost. Reuse is safe because a
 * single-metric instance publishes inside `addMetric` and then clears its dimensions, all synchronously, so no other
 * emit can come between setting a document's dimensions and publishing it.
 */
const singles = new WeakMap<Metrics, Metrics>();

function singleMetricOf(metrics: Metrics): Metrics {
  let single = singles.get(metrics);
  if (!single) singles.set(metrics, (single = metrics.singleMetric()));
  return single;
}

function dimensionProblem(declared: readonly string[], given: Readonly<Record<string, string>>): string | undefined {
  const names = Object.keys(given);
  const same = names.length === declared.length && declared.every((d) => Object.hasOwn(given, d));
  if (!same) return `dimensions [${names.join(', ')}] differ from the declared [${declared.join(', ')}]`;
  // Powertools drops an empty dimension value with a warning, which would leave a different set than declared.
  const empty = declared.filter((d) => typeof given[d] !== 'string' || given[d] === '');
  return empty.length > 0 ? `dimensions [${empty.join(', ')}] have no value` : undefined;
}

/**
 * A metric off its declaration is a programming error, the same on every run of that code path, so the test
 * runner makes it fail the test that reaches it. In a deployment it is logged and the value dropped: metrics are
 * emitted after the effect they describe, and throwing there would not undo it but make the queue or the stream
 * retry a finished batch, forever for the relay, since the mistake repeats on every try.
 */
function reject(name: PlatformMetricName, problem: string, dimensions: Readonly<Record<string, string>>): void {
  const message = `metric ${name} not emitted: ${problem}`;
  if (process.env.VITEST === 'true') throw new InvalidMetricError(message);
  console.warn(JSON.stringify({ level: 'WARN', message, metric: name, dimensions }));
}
