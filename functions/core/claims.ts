/**
 * Who a token says its bearer is, read the same way by the API (from the authorizer's claims) and by the console
 * (from the token it holds). Cognito ID tokens name the facts `custom:tenant` and `cognito:groups`, local tokens
 * `tenant` and `groups`; API Gateway's HTTP API hands an array claim over as the string "[admin operator]".
 */
export interface TokenIdentity {
  sub?: string;
  tenant?: string;
  groups: string[];
}

/** A tenant id as tokens may carry it. */
export const TENANT_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export function parseGroups(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  if (typeof value !== 'string' || value.trim() === '') return [];
  return value
    .replace(/^\[|\]$/g, '')
    .split(/[\s,]+/)
    .map((g) => g.replace(/^"|"$/g, ''))
    .filter(Boolean);
}

export function identityOf(claims: Record<string, unknown>): TokenIdentity {
  const sub = claims.sub;
  const tenant = claims.tenant ?? claims['custom:tenant'];
  return {
    ...(typeof sub === 'string' && sub !== '' ? { sub } : {}),
    ...(typeof tenant === 'string' && TENANT_ID_PATTERN.test(tenant) ? { tenant } : {}),
    groups: parseGroups(claims.groups ?? claims['cognito:groups']),
  };
}
