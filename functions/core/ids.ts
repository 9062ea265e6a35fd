import { createHash } from 'node:crypto';
import { monotonicFactory } from 'ulidx';
import type { JobSpec } from './job.ts';

const nextUlid = monotonicFactory();

/** Event ids are ULIDs: unique, and sortable by creation time. */
export function newEventId(): string {
  return nextUlid();
}

const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * The job id is a function of (tenant, Idempotency-Key), so a retried submit addresses the same item and the
 * conditional put decides; two tenants using the same key still get different jobs.
 */
export const JOB_ID_PATTERN = /^job_[0-9a-f]{32}$/;

export function deriveJobId(tenantId: string, idempotencyKey: string): string {
  return `job_${sha256Hex(`${tenantId}\u0000${idempotencyKey}`).slice(0, 32)}`;
}

/** JSON with object keys sorted at every level, so equal requests hash equally whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Hash of the request after defaults are applied: `{}` and `{"priority":"medium"}` are the same request. */
export function requestHash(spec: JobSpec): string {
  return sha256Hex(canonicalJson(spec));
}
