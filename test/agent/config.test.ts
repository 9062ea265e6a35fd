import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { AgentConfigError, parseAgentConfig } from '../../agent/config.ts';

const queueEnv = {
  DISPATCH_QUEUE_URL_DEFAULT_CRITICAL: 'http://127.0.0.1:1/q/c',
  DISPATCH_QUEUE_URL_DEFAULT_HIGH: 'http://127.0.0.1:1/q/h',
  DISPATCH_QUEUE_URL_DEFAULT_MEDIUM: 'http://127.0.0.1:1/q/m',
  DISPATCH_QUEUE_URL_DEFAULT_LOW: 'http://127.0.0.1:1/q/l',
  WORKER_REPORTS_QUEUE_URL: 'http://127.0.0.1:1/q/r',
};

const config = (argv: string[], env: NodeJS.ProcessEnv = queueEnv) => {
  const parsed = parseAgentConfig(argv, env);
  if (parsed.help) throw new Error('unexpected --help');
  return parsed.config;
};

describe('agent configuration', () => {
  it('has production defaults and reads the declared queue variables', () => {
    expect(config([])).toMatchObject({
      workerClass: 'default',
      concurrency: 4,
      killGraceMs: 5000,
      drainTimeoutSeconds: 60,
      idleWaitSeconds: 20,
      livenessIntervalSeconds: 10,
      visibilityExtensionSeconds: 30,
      queueUrls: { critical: queueEnv.DISPATCH_QUEUE_URL_DEFAULT_CRITICAL, low: queueEnv.DISPATCH_QUEUE_URL_DEFAULT_LOW },
      reportsQueueUrl: queueEnv.WORKER_REPORTS_QUEUE_URL,
    });
    expect(config([]).workerId).toBe(`${hostname()}-${process.pid}`);
  });

  it('takes flags over environment variables', () => {
    const env = { ...queueEnv, FORGEFLOW_CONCURRENCY: '8', FORGEFLOW_WORKER_ID: 'from-env' };
    expect(config(['--concurrency', '2'], env)).toMatchObject({ concurrency: 2, workerId: 'from-env' });
    expect(config(['--liveness-interval-seconds=0.3', '--visibility-extension-seconds', '2'], env)).toMatchObject({ livenessIntervalSeconds: 0.3, visibilityExtensionSeconds: 2 });
  });

  it('fails fast, naming the flag or variable to fix', () => {
    expect(() => config(['--concurrency', 'lots'])).toThrow(/--concurrency \/ FORGEFLOW_CONCURRENCY/);
    expect(() => config([], { ...queueEnv, DISPATCH_QUEUE_URL_DEFAULT_LOW: undefined })).toThrow(/DISPATCH_QUEUE_URL_DEFAULT_LOW: is not set/);
    // The queue variables follow the worker class.
    expect(() => config(['--worker-class', 'gpu'])).toThrow(/DISPATCH_QUEUE_URL_GPU_CRITICAL: is not set/);
    expect(() => config(['--idle-wait-seconds', '0'])).toThrow(AgentConfigError);
    expect(() => config(['--unknown'])).toThrow(/Unknown option '--unknown'/);
  });

  it('refuses a liveness interval that would let the message reappear between two extensions', () => {
    expect(() => config(['--liveness-interval-seconds', '30', '--visibility-extension-seconds', '30'])).toThrow(/shorter than visibilityExtensionSeconds/);
  });

  it('answers --help without any other setting', () => {
    expect(parseAgentConfig(['--help'], {})).toEqual({ help: true });
  });
});
