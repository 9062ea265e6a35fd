/** Durations as people read them: 850 ms, 4.2 s, 3 min 5 s, 2 h 10 min. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  const sign = ms < 0 ? '−' : '';
  const abs = Math.abs(ms);
  if (abs < 1000) return `${sign}${Math.round(abs)} ms`;
  if (abs < 60_000) return `${sign}${(abs / 1000).toFixed(abs < 10_000 ? 1 : 0)} s`;
  const minutes = Math.floor(abs / 60_000);
  if (minutes < 60) return `${sign}${minutes} min ${Math.round((abs % 60_000) / 1000)} s`;
  return `${sign}${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** An ISO time in the viewer's zone, to the second. */
export function formatTime(iso: string | undefined): string {
  if (!iso) return '–';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' });
}

/** How long ago, for "collected 12 s ago". */
export function formatAge(iso: string | undefined, now = Date.now()): string {
  if (!iso) return 'never';
  return `${formatDuration(Math.max(0, now - Date.parse(iso)))} ago`;
}

export const percent = (value: number | null | undefined) => (value === null || value === undefined ? '–' : `${value.toFixed(1)}%`);
