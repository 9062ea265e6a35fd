import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface LocalWorkersOptions {
  count: number;
  concurrency: number;
  /** Queue URLs, endpoints and credentials: the same variables an EC2 worker gets, with local values. */
  env: Record<string, string>;
  log: (message: string) => void;
}

export interface LocalWorkers {
  readonly pids: number[];
  /** SIGTERM (the agents drain and release what they hold), then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

const AGENT = fileURLToPath(new URL('../bin/agent.ts', import.meta.url));

/**
 * Local workers are real agent processes, started like EC2 workers run them: the same entry point, talking to the
 * local SQS and Step Functions endpoints through the real SDK clients.
 */
export function startLocalWorkers(options: LocalWorkersOptions): LocalWorkers {
  const children: ChildProcess[] = [];
  for (let i = 1; i <= options.count; i++) {
    const child = spawn(process.execPath, ['--import', 'tsx', AGENT], {
      // The pipe on stdin closes when we die, whatever the cause; the agent then drains (FORGEFLOW_EXIT_WITH_PARENT).
      stdio: ['pipe', 'ignore', 'pipe'],
      env: {
        ...process.env,
        ...options.env,
        FORGEFLOW_WORKER_ID: `local-worker-${i}`,
        FORGEFLOW_CONCURRENCY: String(options.concurrency),
        // Short long-polls so Ctrl-C drains in about a second; there is no request cost locally.
        FORGEFLOW_IDLE_WAIT_SECONDS: '1',
        FORGEFLOW_DRAIN_TIMEOUT_SECONDS: '5',
        FORGEFLOW_EXIT_WITH_PARENT: '1',
        // A cancelled running job is noticed at the next heartbeat: every 2 s here, not every 10 s as on EC2.
        FORGEFLOW_LIVENESS_INTERVAL_SECONDS: '2',
        FORGEFLOW_VISIBILITY_EXTENSION_SECONDS: '10',
      },
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) if (line.trim()) options.log(`worker ${i}: ${line.trim()}`);
    });
    child.on('exit', (code, signal) => {
      if (code !== 0 && signal !== 'SIGTERM' && signal !== 'SIGKILL') options.log(`worker ${i} exited (${code ?? signal})`);
    });
    children.push(child);
  }
  return {
    pids: children.map((c) => c.pid!).filter(Boolean),
    async stop(graceMs = 8000) {
      await Promise.all(
        children.map(
          (child) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null || child.signalCode !== null) return resolve();
              const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
              child.once('exit', () => {
                clearTimeout(timer);
                resolve();
              });
              child.kill('SIGTERM');
            }),
        ),
      );
    },
  };
}
