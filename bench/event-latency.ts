import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LOAD_TEST_TENANT_RATE_LIMIT, startLocalRuntime } from '../local/runtime.ts';
import { startWebhookReceiver } from '../test/support/webhook-receiver.ts';
import { percentile, round } from './stats.ts';

export interface EventLatencyFigures {
  optimisticPublish: boolean;
  events: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/**
 * Time from commit to consumer: each job asks for a webhook; the webhooks consumer's delivery reaching the local
 * receiver is the consumer effect, and the event's own `time` (taken just before the commit) is the start.
 */
export async function benchEventLatency(options: { events: number; optimisticPublish: boolean; inFlight?: number; paceMs?: number }): Promise<EventLatencyFigures> {
  const home = mkdtempSync(join(tmpdir(), 'ff-bench-'));
  // With the usual two workers: without them claimed jobs pile up on the tenant's slots and retry claims.
  const runtime = await startLocalRuntime({
    home,
    port: 0,
    log: () => {},
    optimisticPublish: options.optimisticPublish,
    tenantRateLimit: LOAD_TEST_TENANT_RATE_LIMIT,
  });
  const receiver = await startWebhookReceiver();
  const arrivals = new Map<string, number>();
  const original = receiver.received.push.bind(receiver.received);
  receiver.received.push = (...items) => {
    for (const item of items) if (!arrivals.has(item.eventId)) arrivals.set(item.eventId, Date.now());
    return original(...items);
  };
  try {
    const headers = { authorization: `Bearer ${runtime.tokens.user}`, 'content-type': 'application/json' };
    let next = 0;
    await Promise.all(
      Array.from({ length: options.inFlight ?? 1 }, async () => {
        while (next < options.events) {
          next++;
          const started = Date.now();
          const res = await fetch(`${runtime.url}/v1/jobs`, { method: 'POST', headers, body: JSON.stringify({ command: 'true', callbackUrl: receiver.url }) });
          if (res.status !== 201) throw new Error(`submit answered ${res.status}`);
          // A steady arrival rate: latency of the pipeline, not the length of a queue we built ourselves.
          const rest = (options.paceMs ?? 0) - (Date.now() - started);
          if (rest > 0) await new Promise((r) => setTimeout(r, rest));
        }
      }),
    );
    // Each job also moves on (JobDispatched...), with webhooks of its own: measure the JobQueued events only.
    const queued = () => receiver.received.filter((r) => (JSON.parse(r.body) as { type: string }).type === 'JobQueued');
    const deadline = Date.now() + 120_000;
    while (queued().length < options.events && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const latencies = queued().map((r) => arrivals.get(r.eventId)! - Date.parse((JSON.parse(r.body) as { time: string }).time));
    return {
      optimisticPublish: options.optimisticPublish,
      events: latencies.length,
      p50Ms: round(percentile(latencies, 50)),
      p99Ms: round(percentile(latencies, 99)),
      maxMs: round(Math.max(...latencies)),
    };
  } finally {
    await receiver.close();
    await runtime.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

export function formatEventLatency(f: EventLatencyFigures): string {
  const mode = f.optimisticPublish ? 'optimistic publish + relay' : 'relay only (outbox stream)';
  return `${mode.padEnd(28)} ${String(f.events).padStart(5)} events  p50 ${String(f.p50Ms).padStart(6)} ms  p99 ${String(f.p99Ms).padStart(6)} ms  max ${f.maxMs} ms`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  console.log('commit → consumer (webhook delivered), local runtime');
  for (const optimisticPublish of [false, true]) console.log(formatEventLatency(await benchEventLatency({ events: Number(process.argv[2] ?? 1000), optimisticPublish, paceMs: Number(process.argv[3] ?? 100) })));
}
