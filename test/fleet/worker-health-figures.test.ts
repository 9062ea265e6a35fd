import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { parseStat, ProcAgentProcessStats } from '../../functions/adapters/proc/agent-process-stats.ts';
import { isHealthy } from '../../functions/core/fleet/metrics-collector.ts';
import { evaluateThresholds } from '../../functions/core/fleet/thresholds.ts';
import { thresholdInputs } from '../../functions/core/fleet/worker-metrics.ts';

const settings = { limits: { cpu: 90, memory: 80 }, hysteresis: 10 };
const at = (minute: number) => `2026-11-30T10:${String(minute).padStart(2, '0')}:00.000Z`;

describe('Thresholds', () => {
  it('raise once on crossing, hold within the hysteresis, clear once below it, per metric', () => {
    let alerts = {};
    const changes: string[] = [];
    const feed = [
      { cpu: 50, memory: 79 },
      { cpu: 90, memory: 85 },
      { cpu: 99, memory: 71 },
      { cpu: 81, memory: 69.9 },
      { cpu: 79.9, memory: 20 },
    ];
    feed.forEach((inputs, minute) => {
      const result = evaluateThresholds(alerts, inputs, settings, at(minute));
      alerts = result.alerts;
      changes.push(...result.changes.map((c) => `${minute}:${c.kind}:${c.metric}`));
    });
    expect(changes).toEqual(['1:exceeded:cpu', '1:exceeded:memory', '3:cleared:memory', '4:cleared:cpu']);
    expect(alerts).toEqual({});
  });

  it('keep their state when a figure is missing (no datapoint is no evidence that the load went away)', () => {
    const { alerts } = evaluateThresholds({}, { cpu: 95 }, settings, at(0));
    expect(evaluateThresholds(alerts, {}, settings, at(5))).toEqual({ alerts, changes: [] });
    expect(evaluateThresholds(alerts, { memory: 10 }, settings, at(5)).changes).toEqual([]);
  });

  it('are judged on CloudWatch figures where it answered, else on the local process figures', () => {
    const cloudWatch = { status: 'ok' as const, cpuUtilization: 12, memoryUtilization: null, detailedMonitoring: false, periodSeconds: 300, collectedAt: at(0) };
    const agent = { status: 'ok' as const, runningJobs: 0, freeSlots: 1, jobsDone: 0, uptimeSeconds: 1, loadAverage: [0, 0, 0] as [number, number, number], memoryRssBytes: 1, agentVersion: '1', reportedAt: at(0), process: { cpuPercent: 70, memoryPercent: 33, memoryRssBytes: 1 } };
    expect(thresholdInputs({ cloudWatch, agent })).toEqual({ cpu: 12, memory: 33 });
    expect(thresholdInputs({ cloudWatch: { status: 'error', error: { code: 'Throttling', message: 'x' }, collectedAt: at(0) }, agent })).toEqual({ cpu: 70, memory: 33 });
    expect(isHealthy({ ec2: { status: 'ok', instanceState: 'running', systemStatus: 'ok', instanceStatus: 'impaired', scheduledEvents: [], checkedAt: at(0) }, agent })).toBe(false);
    const local = { status: 'not-applicable' as const, message: 'local', checkedAt: at(0) };
    expect(isHealthy({ ec2: local, agent })).toBe(true);
    // An agent of an earlier release heartbeats without figures: alive. A silent one is not.
    expect(isHealthy({ ec2: local, agent: { status: 'error', error: { code: 'AGENT_NOT_REPORTING', message: 'old' }, reportedAt: at(0) } })).toBe(true);
    expect(isHealthy({ ec2: local, agent: { status: 'error', error: { code: 'AGENT_SILENT', message: 'gone' }, reportedAt: at(0) } })).toBe(false);
  });
});

describe('Process figures from /proc (the local runtime)', () => {
  const busy = spawn(process.execPath, ['-e', 'const end = Date.now() + 20000; while (Date.now() < end) {}'], { stdio: 'ignore' });
  afterAll(() => void busy.kill('SIGKILL'));

  it('parse a stat line whose command name holds spaces and parentheses', () => {
    const line = '4242 (my (odd) cmd) S 17 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 1000 123456789 2048 18446744073709551615';
    expect(parseStat(line)).toEqual({ ppid: 17, ticks: 300, rss: 2048 });
  });

  it("read a process tree's CPU share and resident memory, and nothing for a process that is gone", async () => {
    const source = new ProcAgentProcessStats(async () => busy.pid);
    const first = await source.read('local-1');
    expect(first).toBeDefined();
    expect(first!.memoryRssBytes).toBeGreaterThan(10 * 1024 * 1024);
    expect(first!.memoryPercent).toBeGreaterThan(0);
    // A spinning process: a share of the machine above zero, at most 100%.
    expect(first!.cpuPercent).toBeGreaterThan(0);
    expect(first!.cpuPercent).toBeLessThanOrEqual(100);
    expect(await new ProcAgentProcessStats(async () => 2 ** 22 + 1).read('local-2')).toBeUndefined();
    expect(await new ProcAgentProcessStats(async () => undefined).read('local-3')).toBeUndefined();
  });
});
