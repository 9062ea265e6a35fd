import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * ## Verifying Forgeflow webhooks (for the README)
 *
 * Every delivery carries, e.g. for the body `{"jobId":"job_1"}` and the secret `whsec_example`,
 *
 *     X-Forgeflow-Signature: t=1767225600,v1=877457ea49a051b27225945dad93bd1549bdcea6376aa86fbe86b1df6e407a59
 *
 * - `t` is the Unix time in seconds at which this attempt was sent. Each retry is signed afresh with a new `t`.
 * - `v1` is the lowercase hex HMAC-SHA256, keyed with the webhook secret, of the string `"<t>.<raw request body>"`.
 *   During a secret rotation the header may carry several `v1=` entries; accept the request if any of them matches.
 *
 * To verify: take the RAW body bytes (before any JSON parsing, which would change whitespace and key order), compute
 * the HMAC of `t + "." + body` with your secret, compare it with each `v1` in constant time, and reject the request
 * when `t` is more than 5 minutes away from your clock. The signed timestamp is what stops a captured request from
 * being replayed later; the `X-Forgeflow-Event-Id` header is what you dedupe on, since a delivery may be retried.
 * Unknown keys in the header (a future `v2`) must be ignored.
 */
export const SIGNATURE_HEADER = 'X-Forgeflow-Signature';
export const SIGNATURE_SCHEME = 'v1';
export const DEFAULT_SIGNATURE_TOLERANCE_SECONDS = 300;

export type WebhookSecret = string | Uint8Array;
export type WebhookBody = string | Uint8Array;

// Unix seconds pass 1e11 only in the year 5138, while Date.now() milliseconds have been above it since 1973: a number
// that large is a millisecond value passed by mistake, which would otherwise sign requests every receiver rejects.
const MAX_UNIX_SECONDS = 1e11;

function toUnixSeconds(time: Date | number, name: string): number {
  const seconds = time instanceof Date ? Math.floor(time.getTime() / 1000) : time;
  if (!Number.isSafeInteger(seconds) || seconds < 0 || seconds >= MAX_UNIX_SECONDS) {
    throw new RangeError(`${name} must be a Date or a whole number of Unix seconds (not milliseconds)`);
  }
  return seconds;
}

function assertSecret(secret: WebhookSecret): void {
  if (secret.length === 0) throw new RangeError('The webhook secret must not be empty');
}

function hmac(secret: WebhookSecret, timestamp: string, body: WebhookBody): Buffer {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest();
}

/** The `X-Forgeflow-Signature` value for `body` sent at `timestamp` (a Date or Unix seconds). */
export function signWebhook(secret: WebhookSecret, body: WebhookBody, timestamp: Date | number): string {
  assertSecret(secret);
  const t = String(toUnixSeconds(timestamp, 'timestamp'));
  return `t=${t},${SIGNATURE_SCHEME}=${hmac(secret, t, body).toString('hex')}`;
}

interface ParsedHeader {
  timestamp: string;
  signatures: Buffer[];
}

function parseHeader(header: string): ParsedHeader | undefined {
  let timestamp: string | undefined;
  const signatures: Buffer[] = [];
  for (const part of header.split(',')) {
    const separator = part.indexOf('=');
    if (separator < 0) continue;
    const key = part.slice(0, separator).trim();
    const value = part.slice(separator + 1).trim();
    if (key === 't') {
      // Two timestamps would make it ambiguous which one was signed.
      if (timestamp !== undefined || !/^\d{1,11}$/.test(value)) return undefined;
      timestamp = value;
    } else if (key === SIGNATURE_SCHEME && /^[0-9a-fA-F]{64}$/.test(value)) {
      signatures.push(Buffer.from(value, 'hex'));
    }
  }
  return timestamp === undefined || signatures.length === 0 ? undefined : { timestamp, signatures };
}

/**
 * True when `header` carries a `v1` signature of `body` made with `secret`, and its timestamp is within
 * `toleranceSeconds` of `now` in either direction (a timestamp from the future is as suspicious as an old one).
 * `now` is a Date or Unix seconds.
 */
export function verifyWebhookSignature(
  secret: WebhookSecret,
  body: WebhookBody,
  header: string | null | undefined,
  toleranceSeconds: number = DEFAULT_SIGNATURE_TOLERANCE_SECONDS,
  now: Date | number = new Date(),
): boolean {
  assertSecret(secret);
  if (!header) return false;
  const parsed = parseHeader(header);
  if (!parsed) return false;
  if (Math.abs(toUnixSeconds(now, 'now') - Number(parsed.timestamp)) > toleranceSeconds) return false;

  const expected = hmac(secret, parsed.timestamp, body);
  // Check every candidate without stopping early, so the time taken does not reveal which one matched. The lengths
  // are equal by construction (64 hex digits), as timingSafeEqual requires.
  let matched = false;
  for (const candidate of parsed.signatures) {
    if (timingSafeEqual(candidate, expected)) matched = true;
  }
  return matched;
}
