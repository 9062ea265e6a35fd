import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MissingTokenError, ConnectionUsageError, resolveConnection } from '../../cli/config.ts';
import { tokensPath } from '../../local/tokens.ts';

describe('CLI: where requests go and with which token', () => {
  const home = mkdtempSync(join(tmpdir(), 'ff-cli-config-'));
  writeFileSync(tokensPath(home), JSON.stringify({ admin: 'admin-token', user: 'user-token', other: 'other-token' }));
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it('uses the local runtime by default: 127.0.0.1 on PORT, and the user persona of the tokens file', () => {
    expect(resolveConnection({}, { FORGEFLOW_HOME: home })).toMatchObject({ baseUrl: 'http://127.0.0.1:3000', token: 'user-token' });
    expect(resolveConnection({}, { FORGEFLOW_HOME: home, PORT: '4100' }).baseUrl).toBe('http://127.0.0.1:4100');
    expect(resolveConnection({ as: 'admin' }, { FORGEFLOW_HOME: home }).token).toBe('admin-token');
  });

  it('prefers the environment to the local runtime, and flags to both', () => {
    const env = { FORGEFLOW_HOME: home, FORGEFLOW_API: 'https://api.example.com/prod', FORGEFLOW_TOKEN: 'env-token' };
    expect(resolveConnection({}, env)).toMatchObject({ baseUrl: 'https://api.example.com/prod', token: 'env-token', tokenSource: 'FORGEFLOW_TOKEN' });
    expect(resolveConnection({ api: 'http://127.0.0.1:9999', token: 'flag-token' }, env)).toMatchObject({ baseUrl: 'http://127.0.0.1:9999', token: 'flag-token' });
    // --as names a local persona on purpose: it beats the environment's token.
    expect(resolveConnection({ as: 'other' }, env).token).toBe('other-token');
  });

  it('refuses contradictory or malformed flags as usage errors', () => {
    expect(() => resolveConnection({ token: 't', as: 'admin' }, { FORGEFLOW_HOME: home })).toThrow(ConnectionUsageError);
    expect(() => resolveConnection({ api: 'ftp://x' }, { FORGEFLOW_HOME: home })).toThrow(ConnectionUsageError);
  });

  it('says where a token could come from when there is none, and never shows a token it read', () => {
    const missing = join(home, 'nowhere');
    expect(() => resolveConnection({}, { FORGEFLOW_HOME: missing })).toThrow(MissingTokenError);
    expect(() => resolveConnection({}, { FORGEFLOW_HOME: missing })).toThrow(/--token.*FORGEFLOW_TOKEN.*npm start/);

    const broken = mkdtempSync(join(tmpdir(), 'ff-cli-broken-'));
    writeFileSync(tokensPath(broken), JSON.stringify({ user: 'leaky-secret' }));
    try {
      const error = (() => {
        try {
          resolveConnection({}, { FORGEFLOW_HOME: broken });
        } catch (e) {
          return e as Error;
        }
      })();
      expect(error).toBeInstanceOf(MissingTokenError);
      expect(error!.message).not.toContain('leaky-secret');
    } finally {
      rmSync(broken, { recursive: true, force: true });
    }
  });
});
