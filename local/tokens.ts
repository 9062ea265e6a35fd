import { chmodSync, linkSync, mkdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { ROLES } from '../functions/core/roles.ts';

/** What the local JWT authorizer accepts; the same checks API Gateway makes against its configured issuer and audience. */
export const LOCAL_ISSUER = 'forgeflow-local';
export const LOCAL_AUDIENCE = 'forgeflow-api';
// RS256 because API Gateway's JWT authorizer verifies RSA signatures only: local tokens look like the real ones.
const ALG = 'RS256';
/** Long enough that a developer never meets an expired token during ordinary work; the key never leaves the machine. */
const TOKEN_LIFETIME = '30d';

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}

export interface TokenClaims {
  sub: string;
  tenant: string;
  groups: string[];
}

/** The three personas printed at start: an admin and a user of tenant `default`, and a user of another tenant. */
export interface LocalTokens {
  admin: string;
  user: string;
  other: string;
}

export const LOCAL_PERSONAS: Record<keyof LocalTokens, TokenClaims> = {
  // The one developer on a laptop is both the tenant's admin and the platform's.
  admin: { sub: 'local-admin', tenant: 'default', groups: [ROLES.TENANT_ADMIN.name, ROLES.PLATFORM_ADMIN.name] },
  user: { sub: 'local-user', tenant: 'default', groups: [] },
  other: { sub: 'local-other', tenant: 'other', groups: [] },
};

export const signingKeyPath = (home: string) => join(home, 'keys', 'signing-key.json');
export const tokensPath = (home: string) => join(home, 'tokens.json');

/**
 * Loads the signing key kept under `<home>/keys`, creating it on first use. Reusing it across restarts is what keeps
 * tokens pasted into scripts and shells valid after `npm start` runs again.
 */
export async function loadOrCreateSigningKey(home: string): Promise<SigningKey> {
  const file = signingKeyPath(home);
  let jwk: JWK | undefined = readKeyFile(file);
  if (!jwk) {
    const { privateKey } = await generateKeyPair(ALG, { extractable: true });
    const created = { ...(await exportJWK(privateKey)), alg: ALG };
    created.kid = await calculateJwkThumbprint(created);
    // Another process may race us to create the key: whoever links first wins and both use the winner's key.
    jwk = writeOnce(file, JSON.stringify(created, null, 2) + '\n') ? created : readKeyFile(file);
  }
  return importSigningKey(jwk!, file);
}

function readKeyFile(file: string): JWK | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  // A key readable by others could mint admin tokens for anyone on the machine.
  if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  try {
    return JSON.parse(text) as JWK;
  } catch {
    throw new Error(`The signing key file ${file} is not valid JSON; delete it to create a new key (earlier tokens stop working).`);
  }
}

async function importSigningKey(jwk: JWK, file: string): Promise<SigningKey> {
  if (jwk.kty !== 'RSA' || !jwk.d || !jwk.n || !jwk.e) {
    throw new Error(`The signing key file ${file} does not hold an RSA private key; delete it to create a new key.`);
  }
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = jwk;
  return {
    kid: jwk.kid ?? (await calculateJwkThumbprint(publicJwk)),
    privateKey: (await importJWK(jwk, ALG)) as CryptoKey,
    publicKey: (await importJWK(publicJwk, ALG)) as CryptoKey,
  };
}

/**
 * Writes `content` to `file` (mode 0600) unless the file exists. Write-to-temp then link is atomic and never
 * overwrites, so no reader ever sees half a key. Returns false when the file was already there.
 */
function writeOnce(file: string, content: string): boolean {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, content, { mode: 0o600 });
  try {
    linkSync(temp, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    unlinkSync(temp);
  }
}

export interface IssueOptions {
  /** A jose time span (`'30d'`) or an absolute epoch second; tests use a past one. */
  expiresIn?: string | number;
  audience?: string;
}

/** Signs a token with the claims the api handler reads (`sub`, `tenant`, `groups`). */
export function issueToken(key: SigningKey, claims: TokenClaims, options: IssueOptions = {}): Promise<string> {
  return new SignJWT({ tenant: claims.tenant, groups: claims.groups })
    .setProtectedHeader({ alg: ALG, kid: key.kid, typ: 'JWT' })
    .setSubject(claims.sub)
    .setIssuer(LOCAL_ISSUER)
    .setAudience(options.audience ?? LOCAL_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? TOKEN_LIFETIME)
    .sign(key.privateKey);
}

export async function issueLocalTokens(key: SigningKey): Promise<LocalTokens> {
  const [admin, user, other] = await Promise.all(
    (['admin', 'user', 'other'] as const).map((persona) => issueToken(key, LOCAL_PERSONAS[persona])),
  );
  return { admin: admin!, user: user!, other: other! };
}

/** Issues fresh tokens for the three personas and writes them to `<home>/tokens.json` (mode 0600: they are credentials). */
export async function writeTokens(home: string): Promise<{ file: string; tokens: LocalTokens }> {
  const tokens = await issueLocalTokens(await loadOrCreateSigningKey(home));
  const file = tokensPath(home);
  const temp = `${file}.${process.pid}.tmp`;
  mkdirSync(home, { recursive: true });
  writeFileSync(temp, JSON.stringify(tokens, null, 2) + '\n', { mode: 0o600 });
  renameSync(temp, file);
  return { file, tokens };
}

export type Verifier = (token: string) => Promise<JWTPayload>;

/**
 * Verifies a bearer token as the HTTP API JWT authorizer would: signature with the one allowed algorithm, issuer,
 * audience and expiry (jose also refuses a token whose `nbf` lies ahead). Throws a jose error on any failure.
 */
export function createVerifier(key: Pick<SigningKey, 'publicKey'>): Verifier {
  return async (token) => {
    const { payload } = await jwtVerify(token, key.publicKey, {
      algorithms: [ALG],
      issuer: LOCAL_ISSUER,
      audience: LOCAL_AUDIENCE,
      requiredClaims: ['exp', 'sub'],
    });
    return payload;
  };
}
