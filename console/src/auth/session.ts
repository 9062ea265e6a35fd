import { SESSION_KEY, type Session } from './token.ts';

export { actorOf, claimsOf, sessionFor, type Session } from './token.ts';

// sessionStorage: the token lives as long as the tab, and never reaches another tab or a later visit.
export function loadSession(now = Date.now()): Session | undefined {
  try {
    const raw = sessionStorage.getItem(SESSION_KEY);
    if (!raw) return undefined;
    const session = JSON.parse(raw) as Session;
    return session.expiresAt !== undefined && session.expiresAt <= now ? undefined : session;
  } catch {
    return undefined;
  }
}

export function saveSession(session: Session | undefined): void {
  if (session) sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  else sessionStorage.removeItem(SESSION_KEY);
}
