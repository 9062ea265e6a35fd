import { readdirSync, readFileSync } from 'node:fs';
import { extname, join, relative } from 'node:path';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { CONFIG_PATH, CONSOLE_BASE, type ConsoleConfig } from './src/config.ts';

/** One file of the built console; `immutable`: its name carries its content hash, so it may be cached for good. */
export interface ConsoleAsset {
  contentType: string;
  body: string;
  immutable: boolean;
}
/** The built console by request path (`/console/index.html`, `/console/assets/main-<hash>.js`). */
export type ConsoleAssets = ReadonlyMap<string, ConsoleAsset>;

export const ASSETS_PREFIX = `${CONSOLE_BASE}/assets/`;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

export const contentTypeOf = (path: string) => CONTENT_TYPES[extname(path)] ?? 'application/octet-stream';

/**
 * Headers of every console answer. The page runs only its own script and style; it talks only to this origin
 * (the API) and, with Cognito, to the user pool's domain for the token exchange.
 */
function securityHeaders(config: ConsoleConfig): Record<string, string> {
  const auth = config.auth.kind === 'cognito' ? ` ${config.auth.domain}` : '';
  return {
    'content-security-policy': [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self' data:",
      `connect-src 'self'${auth}`,
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join('; '),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
  };
}

const notFound = (config: ConsoleConfig, path: string): APIGatewayProxyStructuredResultV2 => ({
  statusCode: 404,
  headers: { ...securityHeaders(config), 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
  body: JSON.stringify({ code: 'ROUTE_NOT_FOUND', message: `No console file at ${path}`, details: { path } }),
});

/**
 * Answers a request for the console, the same way locally (the gateway) and in AWS (the console function): the
 * files, /console/config.json, and index.html for every other page path, so that a job's URL can be opened
 * directly. Undefined for paths outside /console.
 */
export function serveConsole(assets: ConsoleAssets, method: string, path: string, config: ConsoleConfig): APIGatewayProxyStructuredResultV2 | undefined {
  if (path !== CONSOLE_BASE && !path.startsWith(`${CONSOLE_BASE}/`)) return undefined;
  const headers = securityHeaders(config);
  if (method !== 'GET' && method !== 'HEAD') {
    return {
      statusCode: 405,
      headers: { ...headers, allow: 'GET, HEAD', 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ code: 'METHOD_NOT_ALLOWED', message: `${method} is not allowed on ${path}`, details: { allow: ['GET', 'HEAD'] } }),
    };
  }
  if (path === CONFIG_PATH) {
    return { statusCode: 200, headers: { ...headers, 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }, body: JSON.stringify(config) };
  }
  // /console itself is the page too: every asset path is absolute, so no redirect to /console/ is needed.
  const asset = path === CONSOLE_BASE ? undefined : assets.get(path);
  // A page path (no file extension) is the single-page app; a missing file is a 404, not the page.
  const page = !asset && !extname(path) && !path.startsWith(ASSETS_PREFIX) ? assets.get(`${CONSOLE_BASE}/index.html`) : undefined;
  const found = asset ?? page;
  if (!found) return notFound(config, path);
  return {
    statusCode: 200,
    headers: {
      ...headers,
      'content-type': found.contentType,
      // Hashed files never change; the page itself is checked every time, so a deploy is seen at the next load.
      'cache-control': found.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    },
    body: method === 'HEAD' ? '' : found.body,
  };
}

/** Reads a built console from a directory (what `tsx console/build.ts <dir>` wrote): the console function's files. */
export function readConsole(dir: string): ConsoleAssets {
  const assets = new Map<string, ConsoleAsset>();
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const file = join(folder, entry.name);
      if (entry.isDirectory()) walk(file);
      else {
        const path = `${CONSOLE_BASE}/${relative(dir, file).split('\\').join('/')}`;
        assets.set(path, { contentType: contentTypeOf(path), body: readFileSync(file, 'utf8'), immutable: path.startsWith(ASSETS_PREFIX) });
      }
    }
  };
  walk(dir);
  if (!assets.has(`${CONSOLE_BASE}/index.html`)) throw new Error(`No console in ${dir}: index.html is missing`);
  return assets;
}
