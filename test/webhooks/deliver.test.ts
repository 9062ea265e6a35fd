import http from 'node:http';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { deliverWebhook, type DeliverWebhookInput, type DeliveryAttempt } from '../../functions/webhooks/deliver.ts';
import { verifyWebhookSignature } from '../../functions/webhooks/signature.ts';
import { checkWebhookTarget, type WebhookTargetPolicy } from '../../functions/webhooks/url-policy.ts';

const localPolicy: WebhookTargetPolicy = { allowHttp: true, allowPrivate: false, allowLoopback: true };
const secret = 'whsec_test';
const eventId = '01JZ0000000000000000000000';
const body = JSON.stringify({ type: 'JobSucceeded', jobId: 'job_1' });

/** What the test receiver does with one request, in order; after the script it answers 200. */
type Behaviour =
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string; applyEffect?: boolean }
  /** Closes the connection without a response, optionally after having applied the effect (the lost-ack case). */
  | { kind: 'drop'; applyEffect?: boolean }
  | { kind: 'hang' };

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * A webhook receiver as we tell users to write one: it verifies nothing itself (the tests do), and applies each
 * event's effect at most once, keyed by X-Forgeflow-Event-Id.
 */
async function startReceiver(script: Behaviour[]) {
  const requests: Received[] = [];
  const effects: string[] = [];
  const seenEventIds = new Set<string>();
  let duplicatesIgnored = 0;
  const applyEffect = (req: Received) => {
    const id = String(req.headers['x-forgeflow-event-id']);
    if (seenEventIds.has(id)) duplicatesIgnored++;
    else {
      seenEventIds.add(id);
      effects.push(req.body);
    }
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const received = { path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(received);
      const behaviour = script.shift() ?? { kind: 'status', status: 200, applyEffect: true };
      if (behaviour.kind === 'hang') return;
      if (behaviour.applyEffect) applyEffect(received);
      if (behaviour.kind === 'drop') return void req.socket.destroy();
      res.writeHead(behaviour.status, behaviour.headers).end(behaviour.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    requests,
    effects,
    get duplicatesIgnored() {
      return duplicatesIgnored;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections(); // including the hanging one
        server.close(() => resolve());
      }),
  };
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

async function receiver(script: Behaviour[]) {
  const r = await startReceiver(script);
  cleanups.push(r.close);
  return r;
}

/** Defaults for a test delivery: injected sleep and randomness, a clock that advances 1 s per reading. */
function harness(overrides: Partial<DeliverWebhookInput> & Pick<DeliverWebhookInput, 'target'>) {
  const attempts: DeliveryAttempt[] = [];
  const sleep = vi.fn(async (_ms: number) => {});
  let tick = Date.parse('2026-01-01T00:00:00Z');
  const clock = { now: () => new Date((tick += 1000)) };
  const input: DeliverWebhookInput = {
    eventId,
    eventType: 'JobSucceeded',
    body,
    secret,
    timeoutMs: 2000,
    baseDelayMs: 100,
    capDelayMs: 5000,
    random: () => 0.5,
    sleep,
    clock,
    recordAttempt: async (attempt) => void attempts.push(attempt),
    ...overrides,
  };
  return { input, attempts, sleep };
}

describe('deliverWebhook against a real local receiver', () => {
  it('stops before its deadline and leaves the rest to the queue: a slow receiver cannot outlast the Lambda', async () => {
    const slow = { kind: 'status', status: 503, headers: { 'retry-after': '30' } } as const;
    const r = await receiver([slow, slow, slow, slow]);
    const target = await checkWebhookTarget(`${r.url}/hook`, localPolicy);
    // The harness clock moves 1 s per reading: the deadline leaves room for one attempt, not for a 30 s Retry-After.
    const { input, attempts, sleep } = harness({ target, capDelayMs: 60_000, deadline: Date.parse('2026-01-01T00:00:06Z') });

    const result = await deliverWebhook(input);

    expect(result).toMatchObject({ delivered: false, attempts: 1, lastStatus: 503, permanent: false, deferred: true });
    expect(r.requests).toHaveLength(1);
    expect(sleep).not.toHaveBeenCalled();
    expect(attempts[0]).not.toHaveProperty('nextDelayMs');
    // No deadline: the same receiver gets every attempt, the Retry-After honoured in between.
    const r2 = await receiver([slow, slow, slow, slow]);
    const unbounded = harness({ target: await checkWebhookTarget(`${r2.url}/hook`, localPolicy), capDelayMs: 60_000 });
    expect(await deliverWebhook(unbounded.input)).toMatchObject({ delivered: false, attempts: 4, permanent: false });
    expect(unbounded.sleep.mock.calls.map(([ms]) => ms)).toEqual([30_000, 30_000, 30_000]);
  });

  it('retries through a 500 and a dropped connection: 3 requests, one effect, every request signed with the same event id', async () => {
    const r = await receiver([{ kind: 'status', status: 500, body: 'boom' }, { kind: 'drop', applyEffect: true }]);
    const target = await checkWebhookTarget(`${r.url}/hooks/forgeflow?token=receiver-secret`, localPolicy);
    const { input, attempts, sleep } = harness({ target });

    const result = await deliverWebhook(input);

    expect(result).toEqual({ delivered: true, attempts: 3, lastStatus: 200, permanent: false });
    expect(r.requests).toHaveLength(3);
    expect(r.effects).toEqual([body]);
    expect(r.duplicatesIgnored).toBe(1); // the third request re-sent what the second had already applied
    const timestamps = new Set<string>();
    for (const request of r.requests) {
      expect(request.path).toBe('/hooks/forgeflow?token=receiver-secret');
      expect(request.body).toBe(body);
      expect(request.headers).toMatchObject({
        'content-type': 'application/json',
        'user-agent': 'Forgeflow-Webhooks/1',
        'x-forgeflow-event-id': eventId,
        'x-forgeflow-event-type': 'JobSucceeded',
      });
      const signature = String(request.headers['x-forgeflow-signature']);
      expect(verifyWebhookSignature(secret, request.body, signature, 300, Date.parse('2026-01-01T00:00:30Z') / 1000)).toBe(true);
      expect(verifyWebhookSignature('whsec_wrong', request.body, signature, 300, Date.parse('2026-01-01T00:00:30Z') / 1000)).toBe(false);
      timestamps.add(signature.split(',')[0] ?? '');
    }
    expect(timestamps.size).toBe(3); // a fresh timestamp per attempt

    expect(attempts.map(({ attempt, statusCode, error }) => ({ attempt, statusCode, code: error?.code }))).toEqual([
      { attempt: 1, statusCode: 500, code: 'UNEXPECTED_STATUS' },
      { attempt: 2, statusCode: undefined, code: 'NETWORK_ERROR' },
      { attempt: 3, statusCode: 200, code: undefined },
    ]);
    for (const attempt of attempts) {
      expect(attempt.eventId).toBe(eventId);
      expect(attempt.url).toBe(`${r.url}/hooks/forgeflow`); // the query string's token is not recorded
      expect(attempt.durationMs).toBeGreaterThanOrEqual(0);
      expect(Date.parse(attempt.at)).not.toBeNaN();
    }
    expect(attempts[0]?.responseBody).toBe('boom');
    // full jitter with random() = 0.5: half of base·2^(n−1)
    expect(sleep.mock.calls).toEqual([[50], [100]]);
    expect(attempts.map((a) => a.nextDelayMs)).toEqual([50, 100, undefined]);

    // The queue may hand us the same event again: the receiver gets a 4th request but still one effect.
    await expect(deliverWebhook(harness({ target }).input)).resolves.toMatchObject({ delivered: true, attempts: 1 });
    expect(r.requests).toHaveLength(4);
    expect(r.effects).toHaveLength(1);
  });

  it('does not retry a 404: the failure is permanent', async () => {
    const r = await receiver([{ kind: 'status', status: 404, body: 'no such hook' }]);
    const { input, attempts, sleep } = harness({ target: await checkWebhookTarget(`${r.url}/missing`, localPolicy) });

    const result = await deliverWebhook(input);

    expect(result).toEqual({
      delivered: false,
      attempts: 1,
      lastStatus: 404,
      lastError: { code: 'UNEXPECTED_STATUS', message: 'The receiver answered 404' },
      permanent: true,
    });
    expect(r.requests).toHaveLength(1);
    expect(sleep).not.toHaveBeenCalled();
    expect(attempts).toMatchObject([{ attempt: 1, statusCode: 404, responseBody: 'no such hook' }]);
  });

  it('honours Retry-After on a 429, as a floor under the jitter and up to the cap', async () => {
    const r = await receiver([
      { kind: 'status', status: 429, headers: { 'retry-after': '2' } },
      { kind: 'status', status: 429, headers: { 'retry-after': '120' } },
    ]);
    const { input, sleep } = harness({ target: await checkWebhookTarget(r.url, localPolicy), random: () => 0 });

    await expect(deliverWebhook(input)).resolves.toMatchObject({ delivered: true, attempts: 3 });
    expect(sleep.mock.calls).toEqual([[2000], [5000]]);
  });

  it('times out a hanging receiver and retries', async () => {
    const r = await receiver([{ kind: 'hang' }]);
    const { input, attempts, sleep } = harness({ target: await checkWebhookTarget(r.url, localPolicy), timeoutMs: 300 });

    const result = await deliverWebhook(input);

    expect(result).toMatchObject({ delivered: true, attempts: 2, lastStatus: 200 });
    expect(attempts[0]).toMatchObject({ attempt: 1, error: { code: 'TIMEOUT', message: 'No response within 300 ms' } });
    expect(attempts[0]?.statusCode).toBeUndefined();
    expect(attempts[0]?.durationMs).toBeGreaterThanOrEqual(250);
    expect(sleep).toHaveBeenCalledTimes(1);
    expect(r.effects).toHaveLength(1);
  });

  it('does not follow a redirect and treats it as permanent', async () => {
    const r = await receiver([{ kind: 'status', status: 302, headers: { location: '/elsewhere' } }]);
    const { input } = harness({ target: await checkWebhookTarget(`${r.url}/hook`, localPolicy) });

    await expect(deliverWebhook(input)).resolves.toMatchObject({
      delivered: false,
      attempts: 1,
      lastStatus: 302,
      lastError: { code: 'REDIRECT_NOT_FOLLOWED' },
      permanent: true,
    });
    expect(r.requests.map((request) => request.path)).toEqual(['/hook']);
  });

  it('gives up after maxAttempts of 5xx, not permanently, with capped exponential backoff', async () => {
    const r = await receiver(Array.from({ length: 4 }, () => ({ kind: 'status' as const, status: 503 })));
    const { input, sleep } = harness({ target: await checkWebhookTarget(r.url, localPolicy), random: () => 0.999, capDelayMs: 300 });

    await expect(deliverWebhook(input)).resolves.toMatchObject({ delivered: false, attempts: 4, lastStatus: 503, permanent: false });
    expect(r.requests).toHaveLength(4);
    expect(sleep.mock.calls).toEqual([[99], [199], [299]]);
  });

  it('keeps at most 4 KiB of the response body', async () => {
    const r = await receiver([{ kind: 'status', status: 400, body: 'x'.repeat(64 * 1024) }]);
    const { input, attempts } = harness({ target: await checkWebhookTarget(r.url, localPolicy) });

    await expect(deliverWebhook(input)).resolves.toMatchObject({ delivered: false, permanent: true });
    expect(attempts[0]?.responseBody).toHaveLength(4096);
  });

  it('connects to the checked address while sending the original Host, with no second DNS lookup', async () => {
    const r = await receiver([]);
    // `.invalid` never resolves (RFC 6761): only the pinned address can make this request arrive.
    const resolve = vi.fn(async () => [{ address: '127.0.0.1', family: 4 }]);
    const target = await checkWebhookTarget(`http://receiver.invalid:${r.port}/hook`, localPolicy, resolve);
    const { input } = harness({ target });

    await expect(deliverWebhook(input)).resolves.toMatchObject({ delivered: true, attempts: 1 });
    expect(resolve).toHaveBeenCalledTimes(1);
    expect(r.requests[0]?.headers.host).toBe(`receiver.invalid:${r.port}`);
  });

  it('over https, sends the host name (not the pinned address) as SNI', async () => {
    const serverNames: string[] = [];
    // No certificate at all: the handshake fails after the ClientHello, which is all we need to read the SNI.
    const server = tls.createServer({
      SNICallback: (name, callback) => {
        serverNames.push(name);
        callback(new Error('no certificate for this test'));
      },
    });
    server.on('tlsClientError', () => {});
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const { port } = server.address() as AddressInfo;
    const resolve = async () => [{ address: '127.0.0.1', family: 4 }];
    const target = await checkWebhookTarget(`https://receiver.invalid:${port}/hook`, { ...localPolicy, allowHttp: false }, resolve);
    const { input } = harness({ target, maxAttempts: 1 });

    await expect(deliverWebhook(input)).resolves.toMatchObject({ delivered: false, attempts: 1, lastError: { code: 'NETWORK_ERROR' } });
    expect(serverNames).toEqual(['receiver.invalid']);
  });

  it('stops and propagates when recording an attempt fails', async () => {
    const r = await receiver([{ kind: 'status', status: 500 }]);
    const { input, sleep } = harness({
      target: await checkWebhookTarget(r.url, localPolicy),
      recordAttempt: async () => {
        throw new Error('attempt store unavailable');
      },
    });

    await expect(deliverWebhook(input)).rejects.toThrow('attempt store unavailable');
    expect(r.requests).toHaveLength(1);
    expect(sleep).not.toHaveBeenCalled();
  });
});
