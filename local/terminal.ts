import { installReadableLogs } from './readable-logs.ts';
import type { LocalTokens } from './tokens.ts';
import { painter, quietLogEnvironment, terminalSettings, type TerminalSettings } from './terminal-style.ts';

/**
 * What the banner shows. It takes the tokens file and the persona names, never a token: a token printed on a
 * terminal ends up in scroll-back, screenshots and CI logs.
 */
export interface BannerInfo {
  /** The API's base URL: the console, metrics and every route hang off it. */
  url: string;
  /** FORGEFLOW_HOME, resolved. */
  home: string;
  tokensFile: string;
  personas: ReadonlyArray<keyof LocalTokens>;
  startedSeconds: number;
}

/** What each persona is, in a few words (they are defined in local/tokens.ts). */
const PERSONA_NOTES: Record<keyof LocalTokens, string> = { admin: 'admin', user: 'user', other: 'other (another tenant)' };

/** The CLI's one-line tour; it reads the tokens file by itself. */
export const CLI_EXAMPLE = 'npx forgeflow submit --wait -- echo hello';

/** The API line's label: test/support/local-process.ts finds the URL by it. */
export const API_LABEL = 'API';

/** The start-up banner: nine short lines, labels aligned, colour only if `color`. */
export function formatBanner(info: BannerInfo, color: boolean): string[] {
  const paint = painter(color);
  const row = (label: string, value: string, note = '') => `  ${paint('bold', label.padEnd(8))} ${value}${note ? `  ${paint('dim', note)}` : ''}`;
  return [
    `${paint('green', 'Forgeflow is running')} on this machine ${paint('dim', `(started in ${info.startedSeconds.toFixed(1)} s; Ctrl-C stops it)`)}`,
    row(API_LABEL, info.url),
    row('Console', `${info.url}/console`),
    row('Metrics', `${info.url}/metrics`, 'Prometheus, no token'),
    row('Data', info.home, 'FORGEFLOW_HOME'),
    row('Tokens', info.tokensFile, info.personas.map((p) => PERSONA_NOTES[p]).join(', ')),
    row('', `export TOKEN=$(node -p "require('${info.tokensFile}').user")`),
    row('Try', CLI_EXAMPLE),
    paint('dim', 'Job state changes follow. LOG_FORMAT=json prints JSON logs instead.'),
  ];
}

/**
 * Sets `npm start`'s process up for its terminal, before any handler or agent reads the environment: in human mode
 * the handlers' and agents' INFO lines are off and their warnings and errors are rewritten on one readable line.
 * Throws on an unknown LOG_FORMAT.
 */
export function prepareTerminal(proc: Pick<NodeJS.Process, 'env' | 'stdout' | 'stderr'> = process): TerminalSettings {
  const settings = terminalSettings({ env: proc.env, isTTY: proc.stdout.isTTY === true });
  Object.assign(proc.env, quietLogEnvironment(settings, proc.env));
  if (settings.format === 'human') {
    installReadableLogs(proc.stdout, { color: settings.color });
    installReadableLogs(proc.stderr, { color: settings.color && proc.stderr.isTTY === true });
  }
  return settings;
}
