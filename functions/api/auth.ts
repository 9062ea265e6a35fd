import type { Actor } from '../core/job-service.ts';
import { identityOf } from '../core/claims.ts';
import { httpError, type HttpEvent } from './http.ts';

type Claims = Record<string, string | number | boolean | string[] | undefined>;

/** The caller as the JWT authorizer verified it. A token without a tenant cannot see any job. */
export function actorFrom(event: HttpEvent): Actor {
  const claims = ((event.requestContext as { authorizer?: { jwt?: { claims?: Claims } } }).authorizer?.jwt?.claims ?? {}) as Claims;
  // The claims are read by the one reader the console uses too (functions/core/claims.ts).
  const { sub, tenant, groups } = identityOf(claims);
  if (sub === undefined) {
    throw httpError('UNAUTHORIZED', 'A bearer token is required', {}, { 'www-authenticate': 'Bearer' });
  }
  if (tenant === undefined) {
    throw httpError('FORBIDDEN', 'The token carries no valid tenant claim');
  }
  return { sub, tenantId: tenant, groups };
}
