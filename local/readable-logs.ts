import { clockTime, oneLine, painter, type Colour } from './terminal-style.ts';

export interface ReadableLogOptions {
  color: boolean;
  timeZone?: string;
}

/** Fields every Powertools line carries that a person at a terminal does not need (they matter in CloudWatch). */
const OMITTED = new Set(['level', 'message', 'timestamp', 'service', 'sampling_rate', 'cold_start', 'function_arn', 'function_memory_size', 'function_name', 'function_request_id', 'xray_trace_id']);
const LEVEL_COLOURS: Record<string, Colour> = { WARN: 'yellow', ERROR: 'red', CRITICAL: 'red' };
const MAX_VALUE = 120;

/** A Powertools line, optionally after a `local-1: ` prefix (an agent's stderr, relayed by the local provider). */
const POWERTOOLS_LINE = /^(?:(\S+): )?(\{"level":"[A-Z]+".*\})\s*$/;

interface PowertoolsRecord {
  level: string;
  message: unknown;
  timestamp?: string;
  service?: string;
  [key: string]: unknown;
}

/** Powertools formats an Error as { name, location, message, stack }: the first three are the readable part. */
function valueText(value: unknown): string {
  if (value && typeof value === 'object' && 'message' in value && 'name' in value) {
    const { name, message, location } = value as { name: unknown; message: unknown; location?: unknown };
    return `${name}: ${oneLine(String(message), MAX_VALUE)}${location ? ` (${location})` : ''}`;
  }
  const text = typeof value === 'string' ? (/[\s"=]/.test(value) ? JSON.stringify(value) : value) : JSON.stringify(value);
  return oneLine(text ?? String(value), MAX_VALUE);
}

/**
 * A Powertools JSON line as one line a person reads, `19:52:03  WARN   forgeflow-agent  message  key=value …`, or
 * undefined when `line` is not one (it is then printed as it is).
 */
export function readableLogLine(line: string, options: ReadableLogOptions): string | undefined {
  const match = POWERTOOLS_LINE.exec(line);
  if (!match) return undefined;
  let record: PowertoolsRecord;
  try {
    record = JSON.parse(match[2]!) as PowertoolsRecord;
  } catch {
    return undefined;
  }
  const paint = painter(options.color);
  const level = LEVEL_COLOURS[record.level] ? paint(LEVEL_COLOURS[record.level]!, record.level.padEnd(5)) : record.level.padEnd(5);
  const source = [match[1], record.service].filter(Boolean).join(' ');
  const extras = Object.entries(record)
    .filter(([key, value]) => !OMITTED.has(key) && value !== undefined)
    .map(([key, value]) => `${paint('dim', `${key}=`)}${valueText(value)}`);
  const time = record.timestamp ? clockTime(record.timestamp, options.timeZone) : '--:--:--';
  return [paint('dim', time), level, source, oneLine(String(record.message), 200), ...(extras.length ? [extras.join(' ')] : [])].filter(Boolean).join('  ');
}

/** The part of a stream this needs: process.stdout and process.stderr both have it. */
export interface WritableLike {
  write: NodeJS.WriteStream['write'];
}

/**
 * Rewrites the Powertools lines written to `stream` as readable lines, for `npm start` in human mode. Hand-written
 * because Powertools has no hook for it: its Logger always JSON-stringifies the record and writes it through a
 * Console of its own over process.stdout and process.stderr, one write per line; the handlers run unchanged, as in
 * AWS. Anything else written passes untouched. Returns the function that puts the stream back.
 */
export function installReadableLogs(stream: WritableLike, options: ReadableLogOptions): () => void {
  const original = stream.write;
  const rewrite = (chunk: unknown): unknown => {
    if (typeof chunk !== 'string' || !chunk.includes('{"level":')) return chunk;
    return chunk
      .split('\n')
      .map((line) => readableLogLine(line, options) ?? line)
      .join('\n');
  };
  // The overloads of write() differ only in what follows the chunk, which is passed on as it came.
  stream.write = function (this: unknown, chunk: unknown, ...rest: unknown[]) {
    return (original as (...args: unknown[]) => boolean).call(this, rewrite(chunk), ...rest);
  } as NodeJS.WriteStream['write'];
  return () => {
    stream.write = original;
  };
}
