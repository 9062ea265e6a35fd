import parsePrometheusTextFormat, { type ParsedFamily, type ParsedSample } from 'parse-prometheus-text-format';

/** Families by name; a name met again (a histogram's series follow one another) adds its samples to the first. */
function byName(families: ParsedFamily[]): Map<string, ParsedFamily> {
  const named = new Map<string, ParsedFamily>();
  for (const family of families) {
    const first = named.get(family.name);
    if (first) first.metrics.push(...family.metrics);
    else named.set(family.name, family);
  }
  return named;
}

/**
 * Prometheus text, parsed by a parser that is not prom-client, into families by name. The parser (1.1) folds all
 * the series of a histogram into one and drops the labels, `_count` and `_sum` of labelled ones; so each histogram
 * is also parsed without its TYPE line, which gives its `<name>_bucket`, `<name>_sum` and `<name>_count` lines as
 * plain samples, labels kept. The histogram's own family keeps its type.
 */
export function parseMetrics(text: string): Map<string, ParsedFamily> {
  const untypedHistograms = text
    .split('\n')
    .filter((line) => !/^# TYPE \S+ histogram$/.test(line))
    .join('\n');
  return new Map([...byName(parsePrometheusTextFormat(untypedHistograms)), ...byName(parsePrometheusTextFormat(text))]);
}

/** The samples of `name` whose labels include `labels`; a missing family is a failure, not an empty list. */
export function samples(metrics: Map<string, ParsedFamily>, name: string, labels: Record<string, string> = {}): ParsedSample[] {
  const family = metrics.get(name);
  if (!family) throw new Error(`No metric ${name} in the scrape (has: ${[...metrics.keys()].join(', ')})`);
  return family.metrics.filter((sample) => Object.entries(labels).every(([k, v]) => sample.labels?.[k] === v));
}

/** The sum of the values of the matching samples (a histogram's: of `<name>_count`, `<name>_sum`, ...). */
export function total(metrics: Map<string, ParsedFamily>, name: string, labels: Record<string, string> = {}): number {
  return samples(metrics, name, labels).reduce((sum, sample) => sum + Number(sample.value), 0);
}
