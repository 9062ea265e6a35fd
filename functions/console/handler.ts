import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { readConsole, serveConsole, type ConsoleAssets } from '../../console/site.ts';
import { ConsoleConfigSchema } from '../../console/src/config.ts';
import { CONSOLE_ENV } from './config.ts';

// Checked at cold start: a function without its sign-in settings fails at once, not at a user's first visit.
const config = ConsoleConfigSchema.parse({
  auth: { kind: 'cognito', domain: process.env[CONSOLE_ENV.authDomain], clientId: process.env[CONSOLE_ENV.clientId] },
});

/** The built console lies beside the bundle (lib/console.ts's bundling runs console/build.ts into ./console). */
const ASSETS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'console');
let assets: ConsoleAssets | undefined;

/** `GET /console` and `GET /console/{proxy+}` of the HTTP API: the console's files, public, like any web page. */
export async function handler(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  assets ??= readConsole(ASSETS_DIR);
  const answer = serveConsole(assets, event.requestContext.http.method, event.rawPath, config);
  return answer ?? { statusCode: 404, headers: { 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify({ code: 'ROUTE_NOT_FOUND', message: `No route for ${event.rawPath}`, details: {} }) };
}
