import { expect, vi } from 'vitest';
import { PLATFORM_METRICS, type PlatformMetricDefinition } from '../../functions/declarations/metrics.ts';

/** One metric value as CloudWatch would read it out of an EMF document: name, value, and one dimension set. */
export interface EmittedMetric {
  namespace: string;
  name: string;
  unit: string;
  value: number | number[];
  dimensions: Record<string, string>;
}

interface EmfDocument {
  _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] };
  [key: string]: unknown;
}

/**
 * Captures the EMF documents Powertools Metrics writes. Powertools writes them with its own `Console` on
 * `process.stdout` (POWERTOOLS_DEV unset), not through the global console the test runner patches, so the capture
 * spies on `process.stdout.write` and lets every other write through. The test config disables metrics
 * (POWERTOOLS_METRICS_DISABLED), and Powertools reads that when an instance is made: call this before building the
 * code under test, and `restore()` after.
 */
export function captureEmf() {
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
  vi.stubEnv('POWERTOOLS_DEV', 'false');
  const documents: EmfDocument[] = [];
  const write = process.stdout.write.bind(process.stdout);
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    const parsed = text.split('\n').filter((line) => line.startsWith('{"_aws"')).map((line) => JSON.parse(line) as EmfDocument);
    if (parsed.length > 0) documents.push(...parsed);
    // Node's own overloads; the spy passes what it was given.
    else return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
    return true;
  });
  return {
    documents: () => [...documents],
    /** Every metric of every document, once per dimension set it is declared with. */
    metrics: (): EmittedMetric[] => documents.flatMap(metricsOf),
    named: (name: string) => documents.flatMap(metricsOf).filter((m) => m.name === name),
    clear: () => documents.splice(0),
    restore: () => {
      spy.mockRestore();
      vi.unstubAllEnvs();
    },
  };
}

function metricsOf(document: EmfDocument): EmittedMetric[] {
  return document._aws.CloudWatchMetrics.flatMap((directive) =>
    directive.Metrics.flatMap((metric) =>
      directive.Dimensions.map((set) => ({
        namespace: directive.Namespace,
        name: metric.Name,
        unit: metric.Unit,
        value: document[metric.Name] as number | number[],
        dimensions: Object.fromEntries(set.map((key) => [key, String(document[key])])),
      })),
    ),
  );
}

/**
 * What every emitted metric must be: declared, with exactly its declared dimension set (so never a job or tenant
 * id, which would make a billed custom metric per job), in the declared unit.
 */
export function expectDeclared(metrics: readonly EmittedMetric[]): void {
  for (const metric of metrics) {
    const declared = (PLATFORM_METRICS as Record<string, PlatformMetricDefinition>)[metric.name];
    expect(declared, `${metric.name} is declared`).toBeDefined();
    expect(Object.keys(metric.dimensions).sort(), metric.name).toEqual([...declared!.dimensions].sort());
    expect(metric.unit, metric.name).toBe(declared!.unit);
    for (const key of Object.keys(metric.dimensions)) expect(['jobid', 'tenantid', 'service']).not.toContain(key.toLowerCase());
  }
}
