import { readdir, readFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import type { ProcessStatsSource } from '../../core/fleet/metrics-ports.ts';
import type { ProcessStats } from '../../core/fleet/worker-metrics.ts';

/**
 * The local runtime's worker metrics: an agent process and everything it started (its jobs), read from Linux's
 * /proc. Written by hand because no maintained npm package reads a process tree's CPU ticks and resident memory
 * without spawning `ps` per call (pidusage, the usual choice, samples one pid at a time and shells out on macOS).
 * Where /proc does not exist (macOS), there are no figures: the agent block then carries none.
 */
const TICKS_PER_SECOND = 100;
const PAGE_BYTES = 4096;
/** The first reading of a process has nothing to compare with: a second one this much later gives a rate. */
const FIRST_SAMPLE_GAP_MS = 250;

interface Sample {
  ticks: number;
  at: number;
}

/** Finds an agent's pid from its local instance id; by default by the FORGEFLOW_INSTANCE_ID in its environment. */
export type PidResolver = (instanceId: string) => Promise<number | undefined>;

export class ProcAgentProcessStats implements ProcessStatsSource {
  private readonly samples = new Map<number, Sample>();

  constructor(
    private readonly resolvePid: PidResolver = pidFromEnvironment,
    private readonly proc = '/proc',
  ) {}

  async read(instanceId: string): Promise<ProcessStats | undefined> {
    const pid = await this.resolvePid(instanceId);
    if (pid === undefined) return undefined;
    let tree = await this.tree(pid);
    if (!tree) return undefined;
    let previous = this.samples.get(pid);
    if (!previous) {
      previous = { ticks: tree.ticks, at: Date.now() };
      await new Promise((resolve) => setTimeout(resolve, FIRST_SAMPLE_GAP_MS));
      tree = await this.tree(pid);
      if (!tree) return undefined;
    }
    const now = Date.now();
    this.samples.set(pid, { ticks: tree.ticks, at: now });
    const cpuSeconds = Math.max(0, tree.ticks - previous.ticks) / TICKS_PER_SECOND;
    const elapsedSeconds = Math.max(0.001, (now - previous.at) / 1000);
    // As CloudWatch's CPUUtilization: a share of the whole machine, not of one core.
    const cpuPercent = Math.min(100, (cpuSeconds / elapsedSeconds / cpus().length) * 100);
    const memTotal = await this.memTotalBytes();
    return {
      cpuPercent: Math.round(cpuPercent * 10) / 10,
      memoryPercent: memTotal ? Math.min(100, Math.round((tree.rssBytes / memTotal) * 1000) / 10) : 0,
      memoryRssBytes: tree.rssBytes,
    };
  }

  /** The CPU ticks and resident bytes of a process and all its descendants; undefined when it is gone. */
  private async tree(root: number): Promise<{ ticks: number; rssBytes: number } | undefined> {
    const stats = new Map<number, { ppid: number; ticks: number; rss: number }>();
    for (const entry of await readdir(this.proc).catch(() => [] as string[])) {
      if (!/^\d+$/.test(entry)) continue;
      const stat = await readFile(`${this.proc}/${entry}/stat`, 'utf8').catch(() => undefined);
      const parsed = stat ? parseStat(stat) : undefined;
      if (parsed) stats.set(Number(entry), parsed);
    }
    if (!stats.has(root)) return undefined;
    const children = new Map<number, number[]>();
    for (const [pid, { ppid }] of stats) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
    let ticks = 0;
    let rss = 0;
    for (const queue = [root]; queue.length; ) {
      const pid = queue.pop()!;
      const stat = stats.get(pid)!;
      ticks += stat.ticks;
      rss += stat.rss;
      queue.push(...(children.get(pid) ?? []));
    }
    return { ticks, rssBytes: rss * PAGE_BYTES };
  }

  private async memTotalBytes(): Promise<number | undefined> {
    const meminfo = await readFile(`${this.proc}/meminfo`, 'utf8').catch(() => '');
    const kib = /^MemTotal:\s+(\d+) kB/m.exec(meminfo)?.[1];
    return kib ? Number(kib) * 1024 : undefined;
  }
}

/**
 * /proc/<pid>/stat: the command name (field 2) may hold spaces and parentheses, so fields are counted from the
 * last ')'. After it: state (3), ppid (4), … utime (14), stime (15), … rss in pages (24).
 */
export function parseStat(stat: string): { ppid: number; ticks: number; rss: number } | undefined {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const field = (n: number) => Number(fields[n - 3]);
  const parsed = { ppid: field(4), ticks: field(14) + field(15), rss: field(24) };
  return Object.values(parsed).every(Number.isFinite) ? parsed : undefined;
}

async function pidFromEnvironment(instanceId: string, proc = '/proc'): Promise<number | undefined> {
  const wanted = `FORGEFLOW_INSTANCE_ID=${instanceId}`;
  for (const entry of await readdir(proc).catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const environ = await readFile(`${proc}/${entry}/environ`, 'utf8').catch(() => '');
    if (environ.split('\0').includes(wanted)) return Number(entry);
  }
  return undefined;
}
