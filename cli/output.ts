/** How the CLI writes: where to, and whether for people or for programs (`--json`). */
export interface Io {
  out: NodeJS.WritableStream & { isTTY?: boolean };
  err: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  json: boolean;
}

/** One JSON document (a resource, a page, a list). */
export function printJson(io: Io, value: unknown): void {
  io.out.write(JSON.stringify(value, null, 2) + '\n');
}

/** One line of NDJSON: streams print one document per line, so a reader can act on each as it comes. */
export function printJsonLine(io: Io, value: unknown): void {
  io.out.write(JSON.stringify(value) + '\n');
}

/**
 * Rows under a header, each column as wide as its widest cell. Hand-written: aligned columns are a dozen lines, and
 * a table library would be the CLI's only dependency that is not already the platform's.
 */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

/** Label and value pairs, labels aligned; pairs without a value are left out. */
export function fields(pairs: Array<[string, string | number | boolean | undefined | null]>): string {
  const shown = pairs.filter(([, value]) => value !== undefined && value !== null && value !== '');
  const width = Math.max(...shown.map(([label]) => label.length));
  return shown.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join('\n') + '\n';
}

/** How long ago `iso` was, in the largest whole unit: `42s`, `7m`, `3h`, `2d`. */
export function age(iso: string | undefined, now: number = Date.now()): string {
  if (!iso) return '';
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}

/** A duration for people: `850ms`, `12.3s`, `4m05s`. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const seconds = Math.floor(ms / 1000);
  return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
}

/** An argv as a shell would need it typed, so a job's array command reads back as what was submitted. */
export function shellQuote(argv: readonly string[]): string {
  return argv.map((word) => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`)).join(' ');
}
