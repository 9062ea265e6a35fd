import type { Actor } from './job-service.ts';

/**
 * The roles, declared once (Cognito groups in AWS, the `groups` claim of local tokens). A tenant's admin and the
 * platform's admin are different people: one reads their tenant's webhook secret, the other sees every tenant's
 * figures and runs the fleet.
 */
export const ROLES = {
  /** A tenant's administrator: its webhook signing secret. */
  TENANT_ADMIN: { name: 'admin', description: "Tenant administrators: their tenant's jobs plus its webhook signing secret" },
  /** The platform's administrator: platform-wide stats, and launching and removing workers. */
  PLATFORM_ADMIN: { name: 'platform-admin', description: 'Platform administrators: platform-wide stats, the worker fleet (launch, remove, see)' },
  /** The platform's operators: they see the worker fleet, read-only. */
  OPERATOR: { name: 'operator', description: 'Platform operators: see the worker fleet and its history, read-only' },
} as const;

const has = (actor: Actor, role: { name: string }) => actor.groups.includes(role.name);

export const isTenantAdmin = (actor: Actor) => has(actor, ROLES.TENANT_ADMIN);
export const isPlatformAdmin = (actor: Actor) => has(actor, ROLES.PLATFORM_ADMIN);
/** Platform admins and operators: who may see the fleet. */
export const seesFleet = (actor: Actor) => isPlatformAdmin(actor) || has(actor, ROLES.OPERATOR);
