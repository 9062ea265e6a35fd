import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { freePort } from '../local/ports.ts';
import { round } from './stats.ts';

/** The redis-server on PATH, or undefined: the BullMQ row is then skipped with a message, never installed here. */
export function findRedisServer(): string | undefined {
  const found = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : undefined;
}

async function startRedis(binary: string): Promise<{ port: number; process: ChildProcess }> {
  const port = await freePort();
  const child = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  for (let i = 0; i < 200 && !output.includes('Ready to accept connections'); i++) await new Promise((r) => setTimeout(r, 25));
  if (!output.includes('Ready to accept connections')) throw new Error(`redis-server did not start: ${output.slice(-500)}`);
  return { port, process: child };
}

/**
 * BullMQ on a local Redis, the reference the local runtime is measured against: the same `true` command, spawned
 * through /bin/sh as our agents do, at the same concurrency, on the same machine, in the same bench run.
 */
export async function benchBullMq(options: { jobs: number; concurrency: number }): Promise<{ jobsPerSecond: number } | { skipped: string }> {
  const binary = findRedisServer();
  if (!binary) return { skipped: 'no redis-server on PATH (Debian: apt-get install redis-server); the BullMQ row is skipped' };
  const redis = await startRedis(binary);
  const connection = { host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null };
  const queue = new Queue('bench', { connection });
  const events = new QueueEvents('bench', { connection });
  const worker = new Worker(
    'bench',
    async () => {
      const child = spawn('/bin/sh', ['-c', 'true'], { stdio: 'ignore' });
      const [code] = (await once(child, 'exit')) as [number];
      if (code !== 0) throw new Error(`exit ${code}`);
    },
    { connection, concurrency: options.concurrency },
  );
  try {
    await Promise.all([events.waitUntilReady(), worker.waitUntilReady()]);
    let completed = 0;
    const done = new Promise<void>((resolve) => events.on('completed', () => ++completed === options.jobs && resolve()));
    const started = performance.now();
    await queue.addBulk(Array.from({ length: options.jobs }, (_, i) => ({ name: 'true', data: { i } })));
    await done;
    return { jobsPerSecond: round(options.jobs / ((performance.now() - started) / 1000)) };
  } finally {
    await worker.close();
    await events.close();
    await queue.close();
    redis.process.kill('SIGTERM');
    await once(redis.process, 'exit');
  }
}
