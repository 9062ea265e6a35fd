import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { WORKER_MEMORY_METRIC } from '../../functions/declarations/metrics.ts';
import { workerClassNamed } from '../../functions/declarations/worker-classes.ts';
import { renderBootstrap } from '../../functions/fleet/bootstrap.ts';

const script = renderBootstrap({
  workerId: 'w-01m8nrv99xatwktdbcaaanvhja',
  workerClass: workerClassNamed('default', 'aws'),
  agentBundle: { bucket: 'assets-bucket', key: 'agent/bundle.mjs' },
  agentEnv: { AWS_REGION: 'us-east-1' },
});

describe('Worker bootstrap (user data)', () => {
  it('is a bash script bash accepts', () => {
    expect(() => execFileSync('bash', ['-n'], { input: script })).not.toThrow();
  });

  it('configures the CloudWatch agent to publish memory as the collector and the dashboard read it', () => {
    const config = /<<'FORGEFLOW_CWAGENT'\n(.*)\nFORGEFLOW_CWAGENT/.exec(script)?.[1];
    expect(config).toBeDefined();
    const parsed = JSON.parse(config!) as { agent: Record<string, unknown>; metrics: { namespace: string; append_dimensions: Record<string, string>; metrics_collected: { mem: { measurement: string[] } } } };
    expect(parsed.metrics.namespace).toBe(WORKER_MEMORY_METRIC.namespace);
    expect(parsed.metrics.metrics_collected.mem.measurement).toEqual([WORKER_MEMORY_METRIC.metricName]);
    // InstanceId as the only dimension: no host dimension, which GetMetricData's query would not name.
    expect(parsed.metrics.append_dimensions).toEqual({ [WORKER_MEMORY_METRIC.dimension]: '${aws:InstanceId}' });
    expect(parsed.agent.omit_hostname).toBe(true);
  });

  it('starts the CloudWatch agent before the worker agent, and never fails the boot for it', () => {
    const cloudWatch = script.indexOf('amazon-cloudwatch-agent-ctl -a fetch-config');
    expect(cloudWatch).toBeGreaterThan(0);
    expect(cloudWatch).toBeLessThan(script.indexOf('systemctl enable --now'));
    expect(script).toMatch(/fetch-config .* \|\| echo/);
  });
});
