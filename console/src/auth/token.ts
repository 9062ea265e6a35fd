import { identityOf, type TokenIdentity } from '../../../functions/core/claims.ts';
import type { Actor } from '../../../functions/core/job-service.ts';

/** The key the session is kept under in the tab's sessionStorage (auth/session.ts). */
export const SESSION_KEY = 'forgeflow.session';

/** Who the console acts as: a bearer token and what its claims say (the API verifies them; the console only reads). */
export interface Session {
  token: string;
  identity: TokenIdentity;
  /** How the person is shown: the persona's name locally, the e-mail or subject with Cognito. */
  label: string;
  source: 'local' | 'cognito';
  /** Epoch milliseconds from the token's `exp`. */
  expiresAt?: number;
}

/** A JWT's payload, unverified: for display and for hiding what the API would refuse anyway. */
export function claimsOf(token: string): Record<string, unknown> {
  const payload = token.split('.')[1];
  if (!payload) throw new Error('The token is not a JWT');
  const base64 = payload.replace(/-/g, '+').replace(/_/g, '/');
  const bytes = Uint8Array.from(atob(base64.padEnd(base64.length + ((4 - (base64.length % 4)) % 4), '=')), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
}

export function sessionFor(token: string, source: Session['source'], label?: string): Session {
  const claims = claimsOf(token);
  const identity = identityOf(claims);
  const exp = typeof claims.exp === 'number' ? claims.exp * 1000 : undefined;
  const email = typeof claims.email === 'string' ? claims.email : undefined;
  return { token, identity, label: label ?? email ?? identity.sub ?? 'signed in', source, ...(exp ? { expiresAt: exp } : {}) };
}

/** The actor the role rules of functions/core/roles.ts take: the same rules the API applies to this token. */
export function actorOf(session: Session): Actor {
  return { sub: session.identity.sub ?? '', tenantId: session.identity.tenant ?? '', groups: session.identity.groups };
}
