import fc from 'fast-check';
import { JOB_STATUSES } from '../../functions/core/job-status.ts';

/** A request with at least one defect the API must refuse with a 4xx. */
export interface MalformedRequest {
  defect: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  query?: Record<string, string>;
  body?: string;
}

const json = { 'content-type': 'application/json' };
const validBody = { command: 'echo ok' };
const jobPath = fc.constantFrom('/v1/jobs/job_0123456789abcdef0123456789abcdef', '/v1/jobs/job_ffffffffffffffffffffffffffffffff');

/** Values of the wrong type for each field of a submit. */
const wrongTypedField = fc.oneof(
  fc.record({
    command: fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.constant(''), fc.constant([]), fc.array(fc.integer(), { minLength: 1 }), fc.array(fc.string()).map((rest) => ['', ...rest])),
  }),
  // args with a command array, or with a snippet that never reads them: both ambiguous, both refused.
  fc.record({ command: fc.constant(['sleep']), args: fc.array(fc.string(), { minLength: 1 }) }),
  fc.record({ command: fc.constant('sleep'), args: fc.array(fc.string(), { minLength: 1 }) }),
  fc.record({ command: fc.constant('x'), args: fc.oneof(fc.string(), fc.array(fc.integer(), { minLength: 1 }), fc.dictionary(fc.string(), fc.string(), { minKeys: 1 })) }),
  fc.record({ command: fc.constant('x'), env: fc.oneof(fc.array(fc.string()), fc.string(), fc.dictionary(fc.string(), fc.integer(), { minKeys: 1 })) }),
  fc.record({ command: fc.constant('x'), priority: fc.string().filter((s) => !['critical', 'high', 'medium', 'low'].includes(s)) }),
  fc.record({ command: fc.constant('x'), timeoutSeconds: fc.oneof(fc.integer({ max: 0 }), fc.integer({ min: 86_401 }), fc.double({ noInteger: true }), fc.string()) }),
  fc.record({ command: fc.constant('x'), maxAttempts: fc.oneof(fc.integer({ max: 0 }), fc.integer({ min: 11 }), fc.string()) }),
  fc.record({ command: fc.constant('x'), workerClass: fc.oneof(fc.constant(''), fc.string({ minLength: 33 }), fc.constant('UPPER'), fc.integer()) }),
  fc.record({ command: fc.constant('x'), metadata: fc.oneof(fc.string(), fc.dictionary(fc.string({ minLength: 1 }), fc.string(), { minKeys: 21, maxKeys: 30 })) }),
);

const unknownField = fc
  .tuple(fc.string({ minLength: 1 }).filter((k) => !['command', 'args', 'env', 'priority', 'timeoutSeconds', 'maxAttempts', 'workerClass', 'metadata', '__proto__'].includes(k)), fc.jsonValue())
  .map(([key, value]) => ({ ...validBody, [key]: value }));

export const malformedRequest: fc.Arbitrary<MalformedRequest> = fc.oneof(
  fc.string().filter((s) => { try { JSON.parse(s); return false; } catch { return true; } })
    .map((body) => ({ defect: 'malformed JSON', method: 'POST', path: '/v1/jobs', headers: json, body })),
  wrongTypedField.map((b) => ({ defect: 'wrong type', method: 'POST', path: '/v1/jobs', headers: json, body: JSON.stringify(b) })),
  unknownField.map((b) => ({ defect: 'unknown field', method: 'POST', path: '/v1/jobs', headers: json, body: JSON.stringify(b) })),
  fc.oneof(fc.jsonValue().filter((v) => v === null || typeof v !== 'object' || Array.isArray(v)))
    .map((v) => ({ defect: 'not an object', method: 'POST', path: '/v1/jobs', headers: json, body: JSON.stringify(v) })),
  fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data', 'application/xml', 'garbage')
    .map((ct) => ({ defect: 'content type', method: 'POST', path: '/v1/jobs', headers: { 'content-type': ct }, body: JSON.stringify(validBody) })),
  fc.integer({ min: 256 * 1024 + 1, max: 400 * 1024 })
    .map((n) => ({ defect: 'too large', method: 'POST', path: '/v1/jobs', headers: json, body: JSON.stringify({ command: 'x'.repeat(n) }) })),
  fc.oneof(fc.string({ minLength: 256, maxLength: 300 }), fc.constant('bad\u0007key'), fc.string({ minLength: 1 }).map((s) => `${s}\u00e9`))
    .map((key) => ({ defect: 'idempotency key', method: 'POST', path: '/v1/jobs', headers: { ...json, 'idempotency-key': key }, body: JSON.stringify(validBody) })),
  fc.tuple(fc.constantFrom('PUT', 'PATCH', 'OPTIONS'), fc.constantFrom('/v1/jobs', '/v1/queues/stats', '/health'))
    .map(([method, path]) => ({ defect: 'method', method, path, headers: {} })),
  fc.tuple(jobPath, fc.constantFrom('PUT', 'POST', 'PATCH')).map(([path, method]) => ({ defect: 'method on job', method, path, headers: {} })),
  fc.webPath().filter((p) => !/^\/(v1\/jobs(\/[^/]+(\/retry)?)?|v1\/queues\/stats|health)\/?$/.test(p))
    .map((path) => ({ defect: 'unknown path', method: 'GET', path: path.startsWith('/') ? path : `/${path}`, headers: {} })),
  jobPath.map((path) => ({ defect: 'missing job', method: 'GET', path, headers: {} })),
  fc.string({ minLength: 1, maxLength: 40 }).filter((s) => !/^job_[0-9a-f]{32}$/.test(s) && !s.includes('/'))
    .map((id) => ({ defect: 'malformed id', method: 'DELETE', path: `/v1/jobs/${encodeURIComponent(id)}`, headers: {} })),
  fc.oneof(
    fc.record({ limit: fc.oneof(fc.constant('0'), fc.constant('101'), fc.constant('-1'), fc.constant('abc'), fc.constant('1.5')) }),
    fc.record({ status: fc.string().filter((s) => !(JOB_STATUSES as readonly string[]).includes(s)) }),
    fc.record({ cursor: fc.string({ minLength: 1 }) }),
    fc.record({ unexpected: fc.string() }),
  ).map((query) => ({ defect: 'list query', method: 'GET', path: '/v1/jobs', headers: {}, query })),
  fc.tuple(jobPath, fc.jsonValue().filter((v) => !(v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0)))
    .map(([path, v]) => ({ defect: 'retry body', method: 'POST', path: `${path}/retry`, headers: json, body: JSON.stringify(v) })),
);
