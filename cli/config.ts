import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as z from 'zod';
import { tokensPath, type LocalTokens } from '../local/tokens.ts';

export type Persona = keyof LocalTokens;
/** The personas `npm start` writes tokens for (local/tokens.ts). */
export const PERSONAS = ['admin', 'user', 'other'] as const satisfies readonly Persona[];

export interface ConnectionFlags {
  api?: string;
  token?: string;
  as?: Persona;
}

export interface Connection {
  baseUrl: string;
  token: string;
  /** Where the token came from, for messages: never the token itself. */
  tokenSource: string;
}

/** No token could be found: the user has to say who they are (exit 77). */
export class MissingTokenError extends Error {
  override readonly name = 'MissingTokenError';
}

/** The flags were contradictory or malformed (exit 64). */
export class ConnectionUsageError extends Error {
  override readonly name = 'ConnectionUsageError';
}

const TokensFileSchema = z.object({ admin: z.string().min(1), user: z.string().min(1), other: z.string().min(1) });

/**
 * Where to send requests and with which token. Flags first, then FORGEFLOW_API and FORGEFLOW_TOKEN, then the local
 * runtime `npm start` runs: 127.0.0.1 on PORT (3000) and a persona's token from FORGEFLOW_HOME's tokens file. `--as`
 * asks for a local persona, so it wins over FORGEFLOW_TOKEN (a flag is the more deliberate choice).
 */
export function resolveConnection(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env): Connection {
  if (flags.token !== undefined && flags.as !== undefined) throw new ConnectionUsageError('--token and --as both name a token: use one of them');
  const baseUrl = flags.api ?? nonEmpty(env.FORGEFLOW_API) ?? `http://127.0.0.1:${nonEmpty(env.PORT) ?? 3000}`;
  if (!URL.canParse(baseUrl) || !/^https?:$/.test(new URL(baseUrl).protocol)) throw new ConnectionUsageError(`The API URL "${baseUrl}" is not an http(s) URL`);
  if (flags.token !== undefined) return { baseUrl, token: flags.token, tokenSource: '--token' };
  const fromEnv = nonEmpty(env.FORGEFLOW_TOKEN);
  if (fromEnv !== undefined && flags.as === undefined) return { baseUrl, token: fromEnv, tokenSource: 'FORGEFLOW_TOKEN' };
  const persona = flags.as ?? 'user';
  const file = tokensPath(resolve(nonEmpty(env.FORGEFLOW_HOME) ?? '.forgeflow'));
  return { baseUrl, token: readLocalToken(file, persona), tokenSource: `${file} (${persona})` };
}

function readLocalToken(file: string, persona: Persona): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    throw new MissingTokenError(`No token: pass --token, set FORGEFLOW_TOKEN, or start the local runtime (npm start), which writes ${file}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const tokens = TokensFileSchema.safeParse(parsed);
  // The message names the file, never its content: it holds credentials.
  if (!tokens.success) throw new MissingTokenError(`${file} does not hold the local tokens; restart the local runtime (npm start) to write it again`);
  return tokens.data[persona];
}

const nonEmpty = (value: string | undefined) => (value === undefined || value === '' ? undefined : value);
