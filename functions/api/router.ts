import type { Actor } from '../core/job-service.ts';
import { httpError, type HttpEvent, type HttpResult } from './http.ts';
import type { RouteDoc } from './route-doc.ts';

export interface RouteRequest {
  event: HttpEvent;
  params: Record<string, string>;
  /** Undefined only on routes declared `public`. */
  actor: Actor;
  correlationId: string;
}

export interface Route {
  method: 'GET' | 'POST' | 'DELETE';
  /** Path template such as `/v1/jobs/{id}`. */
  path: string;
  public?: boolean;
  /** What the OpenAPI document says of the route: it lives here so that a route cannot exist undocumented. */
  doc: RouteDoc;
  handle(request: RouteRequest): Promise<HttpResult>;
}

interface CompiledRoute extends Route {
  pattern: RegExp;
  names: string[];
}

/**
 * A route table in a dozen lines. We match ourselves (rather than per-route API Gateway integrations) so that
 * an unknown path is a JSON 404 and a known path with the wrong method a JSON 405 with `Allow`.
 */
export class Router {
  private readonly routes: CompiledRoute[];

  constructor(routes: Route[]) {
    this.routes = routes.map((route) => {
      const names: string[] = [];
      const source = route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
        names.push(name);
        return '([^/]+)';
      });
      return { ...route, names, pattern: new RegExp(`^${source}/?$`) };
    });
  }

  match(method: string, path: string): { route: Route; params: Record<string, string> } {
    const candidates = this.routes.filter((r) => r.pattern.test(path));
    if (candidates.length === 0) throw httpError('ROUTE_NOT_FOUND', `No route for ${path}`, { path });
    const route = candidates.find((r) => r.method === method);
    if (!route) {
      const allow = candidates.map((r) => r.method).join(', ');
      throw httpError('METHOD_NOT_ALLOWED', `${method} is not allowed on ${path}`, { allow }, { allow });
    }
    const values = route.pattern.exec(path)!.slice(1);
    const params = Object.fromEntries(route.names.map((name, i) => [name, safeDecode(values[i]!)]));
    return { route, params };
  }
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw httpError('MALFORMED_PATH', 'The path contains an invalid escape sequence');
  }
}
