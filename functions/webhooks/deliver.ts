import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleepFor } from 'node:timers/promises';
import { systemClock, type Clock } from '../core/ports.ts';
import { SIGNATURE_HEADER, signWebhook, type WebhookSecret } from './signature.ts';
import { bareHostname, type WebhookTarget } from './url-policy.ts';

/**
 * One job event POSTed to the job's callback URL, with retries. Delivery is at least once: a response lost after the
 * receiver acted on the request looks like a failure to us and is sent again, so receivers dedupe on
 * X-Forgeflow-Event-Id, which stays the same across attempts and across re-deliveries of the same event.
 */
export const EVENT_ID_HEADER = 'X-Forgeflow-Event-Id';
export const EVENT_TYPE_HEADER = 'X-Forgeflow-Event-Type';
export const WEBHOOK_USER_AGENT = 'Forgeflow-Webhooks/1';
/** Enough of a response to show the user why their receiver refused; the rest is not worth reading or storing. */
export const RESPONSE_BODY_LIMIT_BYTES = 4096;

export const DELIVERY_DEFAULTS = { timeoutMs: 5000, maxAttempts: 4, baseDelayMs: 1000, capDelayMs: 30_000 } as const;

export const DELIVERY_ERROR_CODES = ['TIMEOUT', 'NETWORK_ERROR', 'REDIRECT_NOT_FOLLOWED', 'UNEXPECTED_STATUS', 'TARGET_REFUSED'] as const;
export type DeliveryErrorCode = (typeof DELIVERY_ERROR_CODES)[number];

/** What the caller stores per attempt, so users can see their receiver's answers. */
export interface DeliveryAttempt {
  eventId: string;
  /** 1-based. */
  attempt: number;
  /** Origin and path only: query strings often carry the receiver's tokens and must not land in our records. */
  url: string;
  statusCode?: number;
  error?: { code: DeliveryErrorCode; message: string };
  /** At most RESPONSE_BODY_LIMIT_BYTES of the response, decoded as UTF-8. */
  responseBody?: string;
  durationMs: number;
  /** ISO 8601 time the attempt started. */
  at: string;
  /** Set when another attempt follows after this delay. */
  nextDelayMs?: number;
}

export interface DeliverWebhookInput {
  /** From checkWebhookTarget: the connection goes to `target.address`, never to a fresh DNS answer. */
  target: WebhookTarget;
  eventId: string;
  eventType: string;
  /** The exact JSON text to send; it is what the signature covers. */
  body: string;
  secret: WebhookSecret;
  /** Per attempt, from connect to the response status (reading the response body is bounded by it too). */
  timeoutMs?: number;
  maxAttempts?: number;
  baseDelayMs?: number;
  capDelayMs?: number;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
  clock?: Clock;
  /** Called once per attempt, before any backoff sleep. If it throws, delivery stops and the error propagates. */
  recordAttempt: (attempt: DeliveryAttempt) => Promise<void>;
  /**
   * Epoch ms by which delivery must have returned (the Lambda's remaining time, less a margin): no attempt starts,
   * and no backoff is waited, that could run past it. What is left goes back to the queue.
   */
  deadline?: number;
}

export interface DeliveryResult {
  delivered: boolean;
  attempts: number;
  lastStatus?: number;
  lastError?: { code: DeliveryErrorCode; message: string };
  /** True when the receiver's answer means a retry cannot help (4xx other than 408/429, or a redirect). */
  permanent: boolean;
  /** True when the deadline came before the retries were done: the rest is left to the queue's redelivery. */
  deferred?: boolean;
}

interface AttemptOutcome {
  statusCode?: number;
  headers?: http.IncomingHttpHeaders;
  responseBody?: string;
  error?: { code: DeliveryErrorCode; message: string };
}

/** The `lookup` for node:net that answers with the checked address whatever name it is asked for. */
function pinnedLookup(address: string, family: 4 | 6): LookupFunction {
  return (_hostname, options, callback) => {
    // With autoSelectFamily (the default since Node 20) net asks for all addresses and expects an array.
    if (options.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  };
}

/** One POST. Never rejects: every failure becomes an outcome the retry loop can judge. */
function sendOnce(target: WebhookTarget, headers: Record<string, string>, body: string, timeoutMs: number): Promise<AttemptOutcome> {
  return new Promise((resolve) => {
    const { url } = target;
    const hostname = bareHostname(url);
    const secure = url.protocol === 'https:';
    const options: https.RequestOptions = {
      method: 'POST',
      protocol: url.protocol,
      // The name, not the address: TLS verifies the certificate against it; the lookup below supplies the address.
      hostname,
      port: url.port === '' ? undefined : Number(url.port),
      path: `${url.pathname}${url.search}`,
      headers: { ...headers, host: url.host, 'content-length': String(Buffer.byteLength(body)) },
      lookup: pinnedLookup(target.address, target.family),
      // No pooling: a kept-alive socket of another tenant's target must never carry this request.
      agent: false,
      // SNI must name the host (and may not be an IP literal).
      ...(secure && isIP(hostname) === 0 ? { servername: hostname } : {}),
    };

    let settled = false;
    let statusCode: number | undefined;
    let responseHeaders: http.IncomingHttpHeaders | undefined;
    const chunks: Buffer[] = [];
    let received = 0;

    const responseOutcome = (): AttemptOutcome => ({
      statusCode,
      headers: responseHeaders,
      responseBody: new TextDecoder().decode(Buffer.concat(chunks)),
    });
    const finish = (outcome: AttemptOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(outcome);
    };
    // Once the status is known the attempt is decided; a slow or broken body only shortens what we keep of it.
    const timer = setTimeout(() => {
      finish(statusCode === undefined ? { error: { code: 'TIMEOUT', message: `No response within ${timeoutMs} ms` } } : responseOutcome());
    }, timeoutMs);

    const req = (secure ? https : http).request(options, (res) => {
      statusCode = res.statusCode;
      responseHeaders = res.headers;
      res.on('data', (chunk: Buffer) => {
        const room = RESPONSE_BODY_LIMIT_BYTES - received;
        if (room > 0) chunks.push(chunk.subarray(0, room));
        received += chunk.length;
        if (received >= RESPONSE_BODY_LIMIT_BYTES) finish(responseOutcome());
      });
      res.on('end', () => finish(responseOutcome()));
      res.on('error', () => finish(responseOutcome()));
      res.on('close', () => finish(responseOutcome()));
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (statusCode !== undefined) return finish(responseOutcome());
      finish({ error: { code: 'NETWORK_ERROR', message: `${error.code ?? error.name}: ${error.message}` } });
    });
    req.end(body);
  });
}

type Verdict = 'delivered' | 'retry' | 'permanent';

function judge(outcome: AttemptOutcome): { verdict: Verdict; error?: AttemptOutcome['error'] } {
  const status = outcome.statusCode;
  if (status === undefined) return { verdict: 'retry', error: outcome.error };
  if (status >= 200 && status < 300) return { verdict: 'delivered' };
  if (status >= 300 && status < 400) {
    // Following a redirect would send the event, signed, to a URL nobody checked against the policy.
    return { verdict: 'permanent', error: { code: 'REDIRECT_NOT_FOLLOWED', message: `The receiver answered ${status}; redirects are not followed` } };
  }
  const error = { code: 'UNEXPECTED_STATUS' as const, message: `The receiver answered ${status}` };
  // 408 and 429 say "later"; 5xx is the receiver's trouble. Any other 4xx would get the same answer again.
  if (status === 408 || status === 429 || status >= 500) return { verdict: 'retry', error };
  return { verdict: 'permanent', error };
}

/** Retry-After in milliseconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
function retryAfterMs(headers: http.IncomingHttpHeaders | undefined, now: Date): number | undefined {
  const value = headers?.['retry-after']?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
}

/**
 * Exponential backoff with full jitter, as in core/retry-policy.ts but in milliseconds. A Retry-After from the
 * receiver is a floor (never sooner than asked), and the cap bounds everything so one slow receiver cannot hold the
 * consumer until its Lambda times out.
 */
function backoffMs(attempt: number, base: number, cap: number, random: () => number, retryAfter: number | undefined): number {
  const jittered = Math.floor(random() * Math.min(cap, base * 2 ** (attempt - 1)));
  return Math.min(cap, Math.max(jittered, retryAfter ?? 0));
}

function recordUrl(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

export async function deliverWebhook(input: DeliverWebhookInput): Promise<DeliveryResult> {
  const {
    target,
    eventId,
    eventType,
    body,
    secret,
    timeoutMs = DELIVERY_DEFAULTS.timeoutMs,
    maxAttempts = DELIVERY_DEFAULTS.maxAttempts,
    baseDelayMs = DELIVERY_DEFAULTS.baseDelayMs,
    capDelayMs = DELIVERY_DEFAULTS.capDelayMs,
    random = Math.random,
    sleep = (ms: number) => sleepFor(ms),
    clock = systemClock,
    recordAttempt,
    deadline,
  } = input;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new RangeError('maxAttempts must be a positive integer');
  if (!(timeoutMs > 0)) throw new RangeError('timeoutMs must be positive');
  if (!(baseDelayMs >= 0) || !(capDelayMs >= baseDelayMs)) throw new RangeError('baseDelayMs must be ≥ 0 and capDelayMs ≥ baseDelayMs');

  let last: AttemptOutcome = {};
  // Time left for an attempt that may take its whole timeout; without a deadline there is always time.
  const hasTimeFor = (waitMs: number) => deadline === undefined || clock.now().getTime() + waitMs + timeoutMs <= deadline;
  for (let attempt = 1; ; attempt++) {
    if (!hasTimeFor(0)) return { delivered: false, attempts: attempt - 1, permanent: false, deferred: true };
    const startedAt = clock.now();
    const headers = {
      'content-type': 'application/json',
      'user-agent': WEBHOOK_USER_AGENT,
      [EVENT_ID_HEADER]: eventId,
      [EVENT_TYPE_HEADER]: eventType,
      // Signed per attempt: a retry minutes later must still fall inside the receiver's replay window.
      [SIGNATURE_HEADER]: signWebhook(secret, body, startedAt),
    };
    const started = performance.now();
    last = await sendOnce(target, headers, body, timeoutMs);
    const durationMs = Math.round(performance.now() - started);
    const { verdict, error } = judge(last);
    const retrying = verdict === 'retry' && attempt < maxAttempts;
    const wantedDelayMs = retrying ? backoffMs(attempt, baseDelayMs, capDelayMs, random, retryAfterMs(last.headers, clock.now())) : undefined;
    // A retry that would not end before the deadline is not waited for here: the queue redelivers the event later.
    const nextDelayMs = wantedDelayMs !== undefined && hasTimeFor(wantedDelayMs) ? wantedDelayMs : undefined;

    await recordAttempt({
      eventId,
      attempt,
      url: recordUrl(target.url),
      ...(last.statusCode === undefined ? {} : { statusCode: last.statusCode }),
      ...(error ? { error } : {}),
      ...(last.responseBody ? { responseBody: last.responseBody } : {}),
      durationMs,
      at: startedAt.toISOString(),
      ...(nextDelayMs === undefined ? {} : { nextDelayMs }),
    });

    if (nextDelayMs === undefined) {
      return {
        delivered: verdict === 'delivered',
        attempts: attempt,
        ...(last.statusCode === undefined ? {} : { lastStatus: last.statusCode }),
        ...(error ? { lastError: error } : {}),
        permanent: verdict === 'permanent',
        ...(wantedDelayMs !== undefined ? { deferred: true } : {}),
      };
    }
    await sleep(nextDelayMs);
  }
}
