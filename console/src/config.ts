import * as z from 'zod';

/**
 * How the console signs people in, served as /console/config.json by whoever serves the console: the local
 * runtime (personas from its tokens, on loopback only) or the console function in AWS (Cognito's hosted UI).
 */
export const ConsoleConfigSchema = z.object({
  auth: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('local') }),
    z.object({
      kind: z.literal('cognito'),
      /** The user pool's domain, e.g. https://forgeflow-123456789012.auth.eu-west-1.amazoncognito.com */
      domain: z.url({ protocol: /^https$/ }),
      /** The console's public app client (no secret: authorization code with PKCE). */
      clientId: z.string().min(1),
    }),
  ]),
});
export type ConsoleConfig = z.infer<typeof ConsoleConfigSchema>;
export type CognitoConfig = Extract<ConsoleConfig['auth'], { kind: 'cognito' }>;

/** Where the console lives on its origin, beside the API's /v1. */
export const CONSOLE_BASE = '/console';
/** The personas' tokens, served by the local runtime only (local/console-site.ts). */
export const LOCAL_TOKENS_PATH = `${CONSOLE_BASE}/local-tokens.json`;
export const CONFIG_PATH = `${CONSOLE_BASE}/config.json`;
/**
 * Where the hosted UI sends people back, and where signing out lands: paths with a segment after /console, which
 * the API's `GET /console/{proxy+}` route matches for certain (a bare trailing slash may not).
 */
export const CALLBACK_PATH = `${CONSOLE_BASE}/callback`;
export const SIGNED_OUT_PATH = `${CONSOLE_BASE}/jobs`;

export const LocalTokensSchema = z.record(z.string().regex(/^[a-z]+$/), z.string().min(1));
