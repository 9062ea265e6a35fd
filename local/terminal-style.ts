import * as z from 'zod';

/**
 * How `npm start` talks to the terminal: `human` (the default: a short banner, one line per job state change,
 * warnings and errors on one readable line) or `json` (LOG_FORMAT=json: every structured log line, as in AWS).
 */
export const LogFormatSchema = z.enum(['human', 'json']);
export type LogFormat = z.infer<typeof LogFormatSchema>;

export interface TerminalSettings {
  format: LogFormat;
  /** ANSI colours: only on a terminal, never with NO_COLOR or in JSON mode. */
  color: boolean;
}

/** What the settings are read from: the environment and whether stdout is a terminal. */
export interface TerminalContext {
  env: Readonly<Record<string, string | undefined>>;
  isTTY: boolean;
}

/** Reads LOG_FORMAT (absent or empty: human); an unknown value is an error naming the accepted ones. */
export function terminalSettings({ env, isTTY }: TerminalContext): TerminalSettings {
  const raw = env.LOG_FORMAT?.trim().toLowerCase() || 'human';
  const parsed = LogFormatSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`LOG_FORMAT must be ${LogFormatSchema.options.join(' or ')}; got "${env.LOG_FORMAT}".`);
  const format = parsed.data;
  // no-color.org: any non-empty NO_COLOR turns colour off; a dumb terminal cannot show it.
  const color = format === 'human' && isTTY && !env.NO_COLOR && env.TERM !== 'dumb';
  return { format, color };
}

/**
 * Variables for the in-process Lambda handlers and the agents, set by the local entry only (the deployed functions
 * never see them, so their Powertools JSON logs in AWS are unchanged): in human mode their INFO lines (one per
 * request, per batch) would bury the job lines, so the level is WARN unless the caller chose one.
 */
export function quietLogEnvironment(settings: TerminalSettings, env: TerminalContext['env']): Record<string, string> {
  if (settings.format === 'json') return {};
  const chosen = [env.POWERTOOLS_LOG_LEVEL, env.LOG_LEVEL, env.AWS_LAMBDA_LOG_LEVEL].some((value) => value?.trim());
  return chosen ? {} : { POWERTOOLS_LOG_LEVEL: 'WARN' };
}

const SGR = { dim: [2, 22], bold: [1, 22], red: [31, 39], green: [32, 39], yellow: [33, 39], cyan: [36, 39] } as const;
export type Colour = keyof typeof SGR;

/** Wraps text in a colour, or returns it untouched when colour is off. */
export type Paint = (colour: Colour, text: string) => string;

/**
 * Hand-written: six SGR codes do not warrant a dependency, and node:util's styleText needs Node 20.12 while the
 * engines field allows 20.11. Whether to colour is decided once, by terminalSettings.
 */
export function painter(color: boolean): Paint {
  if (!color) return (_colour, text) => text;
  return (colour, text) => `\u001b[${SGR[colour][0]}m${text}\u001b[${SGR[colour][1]}m`;
}

/** Any ANSI escape sequence: tests and non-terminal checks look for none. */
// eslint-disable-next-line no-control-regex -- matching the escape character is the point
export const ANSI_PATTERN = /\u001b\[[0-9;]*m/;

/** `14:03:07` in the machine's time zone (or `timeZone`), for a person reading along. */
export function clockTime(iso: string, timeZone?: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '--:--:--';
  return new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false, ...(timeZone ? { timeZone } : {}) }).format(date);
}

/** The first line of `text`, cut to `max` characters with an ellipsis: a log line stays one line. */
export function oneLine(text: string, max = 100): string {
  const first = text.split(/\r?\n/).find((line) => line.trim())?.trim() ?? '';
  return first.length > max ? `${first.slice(0, max - 1)}…` : first;
}
