import { systemClock } from '../core/ports.ts';
import { apiRoutes, type ApiRouteDeps } from './app.ts';
import type { Route } from './router.ts';

/**
 * A stand-in for a dependency the document never calls: building routes only captures their dependencies. A call
 * means that assumption broke, and fails at once with the dependency's name rather than documenting half a platform.
 */
function unwired<T>(name: string, parts: Record<string, unknown> = {}): T {
  const stub = new Proxy(parts, {
    get(target, key) {
      if (typeof key === 'symbol' || key === 'then') return undefined;
      if (key in target) return target[key];
      return () => {
        throw new Error(`${name}.${key}() was called while building the routes for their documentation`);
      };
    },
  });
  // A Proxy has no static type of its own; the stub answers every property of T (with a function that throws).
  return stub as unknown as T;
}

/** The dependencies of a fully wired API (the fleet and job logs included), as stand-ins: no AWS client. */
export function documentationDeps(): ApiRouteDeps {
  return {
    store: unwired('store'),
    history: unwired('history'),
    deliveries: unwired('deliveries'),
    secrets: unwired('secrets', { alertSubscriptions: () => unwired('alerts') }),
    clock: systemClock,
    workers: unwired('workers'),
    jobLogs: unwired('jobLogs'),
  };
}

/** Every route a fully wired API serves: the list docs/openapi.json describes. */
export function documentedRoutes(): Route[] {
  return apiRoutes(documentationDeps());
}
