import { ApiError } from '../api/client.ts';
import { CALLBACK_PATH, CONSOLE_BASE, SIGNED_OUT_PATH, type CognitoConfig } from '../config.ts';
import { sessionFor, type Session } from './session.ts';

/**
 * Sign-in through the user pool's hosted UI: authorization code with PKCE (RFC 7636), the flow for a public client
 * that can keep no secret. Hand-written: it is two redirects and one POST, and a library (Amplify) would bring far
 * more than the console uses.
 */
const PENDING_KEY = 'forgeflow.pkce';

interface Pending {
  verifier: string;
  state: string;
  returnTo: string;
}

const redirectUri = () => `${location.origin}${CALLBACK_PATH}`;

function randomText(bytes: number): string {
  return base64Url(crypto.getRandomValues(new Uint8Array(bytes)));
}

function base64Url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export async function beginSignIn(config: CognitoConfig): Promise<void> {
  const pending: Pending = { verifier: randomText(48), state: randomText(24), returnTo: location.pathname + location.search };
  sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
  const challenge = base64Url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(pending.verifier))));
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: config.clientId,
    redirect_uri: redirectUri(),
    scope: 'openid email',
    state: pending.state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  location.assign(`${config.domain}/oauth2/authorize?${query}`);
}

/** On the way back from the hosted UI: trades the code for tokens. Undefined when this page load is no callback. */
export async function completeSignIn(config: CognitoConfig): Promise<Session | undefined> {
  const params = new URLSearchParams(location.search);
  const code = params.get('code');
  const error = params.get('error');
  if (!code && !error) return undefined;
  const pending = JSON.parse(sessionStorage.getItem(PENDING_KEY) ?? 'null') as Pending | null;
  sessionStorage.removeItem(PENDING_KEY);
  history.replaceState(null, '', pending?.returnTo ?? `${CONSOLE_BASE}/`);
  if (error) throw new ApiError(401, 'SIGN_IN_FAILED', params.get('error_description') ?? error);
  // The state ties the answer to the request this tab made: anything else is a forged or replayed callback.
  if (!pending || params.get('state') !== pending.state) throw new ApiError(401, 'SIGN_IN_FAILED', 'The sign-in answer does not match a sign-in started here; sign in again');
  const response = await fetch(`${config.domain}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', client_id: config.clientId, code: code!, redirect_uri: redirectUri(), code_verifier: pending.verifier }),
  });
  const body = (await response.json().catch(() => ({}))) as { id_token?: string; error?: string };
  if (!response.ok || !body.id_token) throw new ApiError(response.status, 'SIGN_IN_FAILED', `Cognito refused the sign-in: ${body.error ?? response.statusText}`);
  // The API reads the tenant from `custom:tenant`, which only ID tokens carry.
  return sessionFor(body.id_token, 'cognito');
}

export function signOut(config: CognitoConfig): void {
  location.assign(`${config.domain}/logout?${new URLSearchParams({ client_id: config.clientId, logout_uri: `${location.origin}${SIGNED_OUT_PATH}` })}`);
}
