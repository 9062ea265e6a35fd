import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildConsole, writeConsole } from '../../console/build.ts';
import { readConsole, serveConsole, type ConsoleAssets } from '../../console/site.ts';
import { CONSOLE_ENV } from '../../functions/console/config.ts';

/** What the console function serves in AWS: the console as console/build.ts wrote it beside the bundle. */
describe('Console: the built files and the function', () => {
  let dir: string;
  let built: ConsoleAssets;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ff-console-build-'));
    built = await buildConsole();
    writeConsole(built, dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(() => vi.unstubAllEnvs());

  it('builds one hashed script and stylesheet with source maps, and a page that loads only those', () => {
    const paths = [...built.keys()].sort();
    expect(paths).toHaveLength(5);
    expect(paths).toEqual(expect.arrayContaining([
      expect.stringMatching(/^\/console\/assets\/main-[A-Z0-9]+\.css$/),
      expect.stringMatching(/^\/console\/assets\/main-[A-Z0-9]+\.css\.map$/),
      expect.stringMatching(/^\/console\/assets\/main-[A-Z0-9]+\.js$/),
      expect.stringMatching(/^\/console\/assets\/main-[A-Z0-9]+\.js\.map$/),
      '/console/index.html',
    ]));
    const page = built.get('/console/index.html')!.body;
    const referenced = [...page.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(referenced.filter((ref) => ref !== 'data:,').sort()).toEqual(paths.filter((p) => /\.(js|css)$/.test(p)).sort());
    // Nothing from elsewhere at run time: no absolute URL in the page, the script or the stylesheet.
    for (const path of paths.filter((p) => /\.(js|css|html)$/.test(p))) expect(built.get(path)!.body, path).not.toMatch(/(src|href)=["']?https?:\/\/|@import\s+url\(|fonts\.googleapis/);
  });

  it('reads back from disk exactly what was built, as the function does', () => {
    const read = readConsole(dir);
    expect([...read.keys()].sort()).toEqual([...built.keys()].sort());
    for (const [path, asset] of built) expect(read.get(path)).toEqual(asset);
  });

  it('answers with the Cognito settings it was given, and fails its cold start without them', async () => {
    vi.stubEnv(CONSOLE_ENV.authDomain, 'https://forgeflowapi-123456789012.auth.eu-west-1.amazoncognito.com');
    vi.stubEnv(CONSOLE_ENV.clientId, 'client123');
    vi.resetModules();
    await expect(import('../../functions/console/handler.ts')).resolves.toHaveProperty('handler');
    const config = serveConsole(readConsole(dir), 'GET', '/console/config.json', {
      auth: { kind: 'cognito', domain: process.env[CONSOLE_ENV.authDomain]!, clientId: 'client123' },
    });
    expect(JSON.parse(config!.body!)).toMatchObject({ auth: { kind: 'cognito', clientId: 'client123' } });

    vi.stubEnv(CONSOLE_ENV.authDomain, '');
    vi.resetModules();
    await expect(import('../../functions/console/handler.ts')).rejects.toThrow();
  });
});
