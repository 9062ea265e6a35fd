import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createVerifier,
  issueToken,
  LOCAL_AUDIENCE,
  LOCAL_ISSUER,
  LOCAL_PERSONAS,
  loadOrCreateSigningKey,
  signingKeyPath,
  writeTokens,
  type LocalTokens,
} from '../../local/tokens.ts';

describe('Local: tokens', () => {
  let home: string;

  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), 'forgeflow-tokens-'));
  });

  afterEach(() => {
    rmSync(home, { recursive: true, force: true });
  });

  it('writes tokens.json whose tokens verify with the persona claims', async () => {
    // Act
    const { file, tokens } = await writeTokens(home);

    // Assess
    expect(file).toBe(join(home, 'tokens.json'));
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(tokens);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(signingKeyPath(home)).mode & 0o777).toBe(0o600);
    const verify = createVerifier(await loadOrCreateSigningKey(home));
    for (const persona of Object.keys(LOCAL_PERSONAS) as (keyof LocalTokens)[]) {
      const claims = await verify(tokens[persona]);
      expect(claims).toMatchObject({ ...LOCAL_PERSONAS[persona], iss: LOCAL_ISSUER, aud: LOCAL_AUDIENCE });
      // About 30 days: long enough to paste into scripts.
      expect(claims.exp! - claims.iat!).toBe(30 * 24 * 3600);
    }
    expect(LOCAL_PERSONAS.admin).toEqual({ sub: 'local-admin', tenant: 'default', groups: ['admin', 'platform-admin'] });
    expect(LOCAL_PERSONAS.other.tenant).not.toBe(LOCAL_PERSONAS.user.tenant);
  });

  it('keeps the signing key across restarts, so earlier tokens stay valid', async () => {
    const first = await writeTokens(home);
    const keyFile = readFileSync(signingKeyPath(home), 'utf8');

    const reloaded = await loadOrCreateSigningKey(home);

    expect(readFileSync(signingKeyPath(home), 'utf8')).toBe(keyFile);
    await expect(createVerifier(reloaded)(first.tokens.user)).resolves.toMatchObject({ sub: 'local-user' });
  });

  it('agrees on one key when two starts race to create it', async () => {
    const [a, b] = await Promise.all([loadOrCreateSigningKey(home), loadOrCreateSigningKey(home)]);
    const token = await issueToken(a, LOCAL_PERSONAS.user);

    await expect(createVerifier(b)(token)).resolves.toMatchObject({ sub: 'local-user' });
  });

  describe('refuses', () => {
    it('a tampered token', async () => {
      const key = await loadOrCreateSigningKey(home);
      const token = await issueToken(key, LOCAL_PERSONAS.user);
      const [header, payload, signature] = token.split('.');
      const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
      const forged = Buffer.from(JSON.stringify({ ...claims, groups: ['admin'] })).toString('base64url');

      await expect(createVerifier(key)(`${header}.${forged}.${signature}`)).rejects.toMatchObject({ code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' });
    });

    it('an expired token', async () => {
      const key = await loadOrCreateSigningKey(home);
      const token = await issueToken(key, LOCAL_PERSONAS.user, { expiresIn: Math.floor(Date.now() / 1000) - 60 });

      await expect(createVerifier(key)(token)).rejects.toMatchObject({ code: 'ERR_JWT_EXPIRED' });
    });

    it('a token for another audience', async () => {
      const key = await loadOrCreateSigningKey(home);
      const token = await issueToken(key, LOCAL_PERSONAS.user, { audience: 'someone-else' });

      await expect(createVerifier(key)(token)).rejects.toMatchObject({ code: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'aud' });
    });

    it('a token signed by another key, another issuer, or no key at all', async () => {
      const key = await loadOrCreateSigningKey(home);
      const verify = createVerifier(key);
      const stranger = await generateKeyPair('RS256');
      const claims = { tenant: 'default', groups: ['admin'] };
      const otherKey = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256' }).setSubject('x').setIssuer(LOCAL_ISSUER).setAudience(LOCAL_AUDIENCE).setExpirationTime('1h').sign(stranger.privateKey);
      const otherIssuer = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256' }).setSubject('x').setIssuer('elsewhere').setAudience(LOCAL_AUDIENCE).setExpirationTime('1h').sign(key.privateKey);
      const unsigned = new UnsecuredJWT(claims).setSubject('x').setIssuer(LOCAL_ISSUER).setAudience(LOCAL_AUDIENCE).setExpirationTime('1h').encode();

      await expect(verify(otherKey)).rejects.toThrow();
      await expect(verify(otherIssuer)).rejects.toMatchObject({ claim: 'iss' });
      await expect(verify(unsigned)).rejects.toThrow();
      await expect(verify('not-a-jwt')).rejects.toThrow();
    });
  });

  it('names the key file when it is damaged', async () => {
    await loadOrCreateSigningKey(home);
    writeFileSync(signingKeyPath(home), '{ not json');

    await expect(loadOrCreateSigningKey(home)).rejects.toThrow(signingKeyPath(home));
  });
});
