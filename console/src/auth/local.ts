import { errorOf } from '../api/client.ts';
import { LOCAL_TOKENS_PATH, LocalTokensSchema } from '../config.ts';
import { sessionFor, type Session } from './session.ts';

/** The personas `npm start` writes tokens for, in the order the picker shows them. */
export async function loadPersonas(): Promise<Session[]> {
  const response = await fetch(LOCAL_TOKENS_PATH, { cache: 'no-store' });
  if (!response.ok) throw await errorOf(response);
  const tokens = LocalTokensSchema.parse(await response.json());
  return Object.entries(tokens).map(([name, token]) => sessionFor(token, 'local', name));
}
