import type { Actor } from '../core/job-service.ts';
import { HttpError, type HttpEvent } from './http.ts';

type Claims = Record<string, string | number | boolean | string[] | undefined>;

/**
 * API Gateway's HTTP API hands over JWT claims as strings; an array claim arrives as "[admin operator]".
 * Cognito ID tokens name the same facts `custom:tenant` and `cognito:groups`, local tokens `tenant` and `groups`.
 */
function parseGroups(value: Claims[string]): string[] {
  if (Array.isArray(value)) return value.map(String);
  if (typeof value !== 'string' || value.trim() === '') return [];
  return value
    .replace(/^\[|\]$/g, '')
    .split(/[\s,]+/)
    .map((g) => g.replace(/^"|"$/g, ''))
    .filter(Boolean);
}

/** The caller as the JWT authorizer verified it. A token without a tenant cannot see any job. */
export function actorFrom(event: HttpEvent): Actor {
  const claims = ((event.requestContext as { authorizer?: { jwt?: { claims?: Claims } } }).authorizer?.jwt?.claims ?? {}) as Claims;
  const sub = claims.sub;
  const tenant = claims.tenant ?? claims['custom:tenant'];
  if (typeof sub !== 'string' || sub === '') {
    throw new HttpError(401, 'UNAUTHORIZED', 'A bearer token is required', {}, { 'www-authenticate': 'Bearer' });
  }
  if (typeof tenant !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(tenant)) {
    throw new HttpError(403, 'FORBIDDEN', 'The token carries no valid tenant claim');
  }
  return { sub, tenantId: tenant, groups: parseGroups(claims.groups ?? claims['cognito:groups']) };
}
