import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeTokens, type LocalTokens } from '../../local/tokens.ts';
import { CLI_EXAMPLE, formatBanner, prepareTerminal } from '../../local/terminal.ts';
import { ANSI_PATTERN, quietLogEnvironment, terminalSettings } from '../../local/terminal-style.ts';
import type { WritableLike } from '../../local/readable-logs.ts';

const URL_ = 'http://127.0.0.1:3000';
const POWERTOOLS_WARN = '{"level":"WARN","message":"slow","timestamp":"2026-11-30T19:52:03Z","service":"forgeflow-api"}';

/** A process as prepareTerminal sees it: its environment and two streams that keep what reaches them. */
function fakeProcess(env: Record<string, string | undefined>, isTTY: boolean) {
  const written: string[] = [];
  const stream = (): WritableLike & { isTTY: boolean } => ({
    isTTY,
    write: ((chunk: string) => {
      written.push(chunk);
      return true;
    }) as WritableLike['write'],
  });
  return { env, stdout: stream(), stderr: stream(), written } as unknown as Pick<NodeJS.Process, 'env' | 'stdout' | 'stderr'> & { written: string[] };
}

describe('Local: the start-up banner', () => {
  const homes: string[] = [];
  afterEach(() => {
    for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
  });

  it('says where things are in a few short lines and never holds a token', async () => {
    const home = mkdtempSync(join(tmpdir(), 'ff-banner-'));
    homes.push(home);
    const { file, tokens } = await writeTokens(home);

    const lines = formatBanner({ url: URL_, home, tokensFile: file, personas: Object.keys(tokens) as Array<keyof LocalTokens>, startedSeconds: 7.2 }, false);
    const text = lines.join('\n');

    expect(lines.length).toBeLessThanOrEqual(10);
    expect(lines.every((l) => l.length <= 100 + home.length)).toBe(true);
    for (const token of Object.values(tokens)) expect(text).not.toContain(token);
    expect(text).not.toContain('eyJ');
    expect(text).toContain(`  API      ${URL_}\n`);
    expect(text).toContain(`${URL_}/console`);
    expect(text).toContain(`${URL_}/metrics`);
    expect(text).toContain(home);
    expect(text).toContain(file);
    expect(text).toMatch(/admin, user, other/);
    expect(text).toContain(CLI_EXAMPLE);
    expect(text).not.toMatch(ANSI_PATTERN);
  });

  it('is coloured only when asked to', () => {
    const info = { url: URL_, home: '/h', tokensFile: '/h/tokens.json', personas: ['admin', 'user', 'other'] as const, startedSeconds: 1 };

    expect(formatBanner(info, true).join('\n')).toMatch(ANSI_PATTERN);
    expect(formatBanner(info, false).join('\n')).not.toMatch(ANSI_PATTERN);
  });
});

describe('Local: terminal settings', () => {
  it.each([
    ['a terminal', {}, true, { format: 'human', color: true }],
    ['a pipe or a file', {}, false, { format: 'human', color: false }],
    ['NO_COLOR on a terminal', { NO_COLOR: '1' }, true, { format: 'human', color: false }],
    ['an empty NO_COLOR (no-color.org: ignored)', { NO_COLOR: '' }, true, { format: 'human', color: true }],
    ['a dumb terminal', { TERM: 'dumb' }, true, { format: 'human', color: false }],
    ['LOG_FORMAT=json on a terminal', { LOG_FORMAT: 'json' }, true, { format: 'json', color: false }],
    ['LOG_FORMAT=JSON, not a terminal', { LOG_FORMAT: 'JSON' }, false, { format: 'json', color: false }],
  ])('%s', (_name, env, isTTY, expected) => {
    expect(terminalSettings({ env, isTTY })).toEqual(expected);
  });

  it('refuses an unknown LOG_FORMAT, naming the accepted ones', () => {
    expect(() => terminalSettings({ env: { LOG_FORMAT: 'yaml' }, isTTY: false })).toThrow('LOG_FORMAT must be human or json; got "yaml".');
  });

  it('quiets the handlers below WARN in human mode only, and never over a level the caller chose', () => {
    const human = { format: 'human', color: false } as const;

    expect(quietLogEnvironment(human, {})).toEqual({ POWERTOOLS_LOG_LEVEL: 'WARN' });
    expect(quietLogEnvironment({ format: 'json', color: false }, {})).toEqual({});
    expect(quietLogEnvironment(human, { POWERTOOLS_LOG_LEVEL: 'DEBUG' })).toEqual({});
    expect(quietLogEnvironment(human, { LOG_LEVEL: 'INFO' })).toEqual({});
    expect(quietLogEnvironment(human, { AWS_LAMBDA_LOG_LEVEL: 'INFO' })).toEqual({});
    expect(quietLogEnvironment(human, { POWERTOOLS_LOG_LEVEL: '' })).toEqual({ POWERTOOLS_LOG_LEVEL: 'WARN' });
  });

  it('human mode: WARN level for the handlers and readable Powertools lines', () => {
    const proc = fakeProcess({}, false);

    expect(prepareTerminal(proc)).toEqual({ format: 'human', color: false });
    proc.stderr.write(`${POWERTOOLS_WARN}\n`);

    expect(proc.env.POWERTOOLS_LOG_LEVEL).toBe('WARN');
    expect(proc.written).toHaveLength(1);
    expect(proc.written[0]).toMatch(/^\d\d:\d\d:\d\d {2}WARN {3}forgeflow-api {2}slow\n$/);
  });

  it('LOG_FORMAT=json: the log level and every JSON line are left as they are', () => {
    const proc = fakeProcess({ LOG_FORMAT: 'json' }, true);

    expect(prepareTerminal(proc)).toEqual({ format: 'json', color: false });
    proc.stdout.write(`${POWERTOOLS_WARN}\n`);

    expect(proc.env.POWERTOOLS_LOG_LEVEL).toBeUndefined();
    expect(proc.written).toEqual([`${POWERTOOLS_WARN}\n`]);
  });
});
