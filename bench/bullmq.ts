import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath, pathToFileURL } from 'node:url';
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

const RESULT_PREFIX = 'bullmq-result ';

/**
 * BullMQ on a local Redis, the reference the local runtime is measured against: the same `true` command, spawned
 * through /bin/sh as our agents do, at the same concurrency, on the same machine, in the same bench run. Its queue and
 * worker run in a fresh Node process of their own, as our agents do: in the bench's process they shared a heap with
 * the local runtime that ran just before (its handlers' module instances, its garbage), and ran at 93 to 158 jobs/s
 * in one bench process against 175 to 363 in fresh ones (decision 0024).
 */
export async function benchBullMq(options: { jobs: number; concurrency: number }): Promise<{ jobsPerSecond: number } | { skipped: string }> {
  const binary = findRedisServer();
  if (!binary) return { skipped: 'no redis-server on PATH (Debian: apt-get install redis-server); the BullMQ row is skipped' };
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), binary, String(options.jobs), String(options.concurrency)], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  const line = output.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
  if (code !== 0 || !line) throw new Error(`the BullMQ side exited with ${code}: ${output.slice(-500)}`);
  return { jobsPerSecond: Number(line.slice(RESULT_PREFIX.length)) };
}

/** The BullMQ side itself, in its own process: Redis, a queue, a worker; prints its rate. */
async function runBullMq(binary: string, jobs: number, concurrency: number): Promise<number> {
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
    { connection, concurrency },
  );
  try {
    await Promise.all([events.waitUntilReady(), worker.waitUntilReady()]);
    let completed = 0;
    const done = new Promise<void>((resolve) => events.on('completed', () => ++completed === jobs && resolve()));
    const started = performance.now();
    await queue.addBulk(Array.from({ length: jobs }, (_, i) => ({ name: 'true', data: { i } })));
    await done;
    return round(jobs / ((performance.now() - started) / 1000));
  } finally {
    await worker.close();
    await events.close();
    await queue.close();
    redis.process.kill('SIGTERM');
    await once(redis.process, 'exit');
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [binary, jobs, concurrency] = process.argv.slice(2);
  console.log(`${RESULT_PREFIX}${await runBullMq(binary!, Number(jobs), Number(concurrency))}`);
}
