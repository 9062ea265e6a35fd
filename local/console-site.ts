import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { buildConsole } from '../console/build.ts';
import { serveConsole, type ConsoleAssets } from '../console/site.ts';
import { LOCAL_TOKENS_PATH, type ConsoleConfig } from '../console/src/config.ts';
import type { LocalTokens } from './tokens.ts';

export interface StaticRequest {
  method: string;
  path: string;
  /** The Host header as sent. */
  host: string | undefined;
}

export type StaticSite = (request: StaticRequest) => Promise<APIGatewayProxyStructuredResultV2 | undefined>;

const LOCAL_CONFIG: ConsoleConfig = { auth: { kind: 'local' } };

const json = (statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 => ({
  statusCode,
  headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' },
  body: JSON.stringify(body),
});

/**
 * A Host that names this machine. The gateway listens on 127.0.0.1 only, but a web page elsewhere can point a name
 * of its own at 127.0.0.1 (DNS rebinding) and read what the page's origin may read: the personas' tokens go only
 * to requests addressed to a loopback name, which such a page cannot send.
 */
export function isLoopbackHost(host: string | undefined, port: number): boolean {
  return host !== undefined && [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`].includes(host.toLowerCase());
}

/**
 * The console as `npm start` serves it at /console: built with esbuild on first request (so a start that never
 * opens it never pays for the build), signing in with the local personas. /console/local-tokens.json exists only
 * here, never in AWS.
 */
export function localConsoleSite(options: { tokens: () => LocalTokens; port: () => number; log: (message: string) => void }): StaticSite {
  let built: Promise<ConsoleAssets> | undefined;
  const assets = () => {
    built ??= buildConsole().catch((error: unknown) => {
      built = undefined; // the next request tries again, e.g. after a fix to console/src
      throw error;
    });
    return built;
  };
  return async ({ method, path, host }) => {
    if (path === LOCAL_TOKENS_PATH && method === 'GET') {
      if (!isLoopbackHost(host, options.port())) {
        return json(403, { code: 'FORBIDDEN', message: 'The local personas are served only to requests addressed to 127.0.0.1 or localhost', details: { host: host ?? null } });
      }
      return json(200, options.tokens());
    }
    if (path !== '/console' && !path.startsWith('/console/')) return undefined;
    try {
      return serveConsole(await assets(), method, path, LOCAL_CONFIG);
    } catch (error) {
      options.log(`console: the build failed: ${(error as Error).message}`);
      return json(500, { code: 'CONSOLE_BUILD_FAILED', message: 'The console could not be built; the runtime log says why', details: {} });
    }
  };
}
