import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session } from 'node:inspector/promises';
import { startBenchRuntime, submitJobs, waitForEnds } from './end-to-end.ts';

/** What the jobs bench's processes spent their CPU on: per process kind, and inside the runtime's own process. */
export interface ProfileReport {
  jobsPerSecond: number;
  /** Jobs in the measured round. */
  jobs: number;
  wallSeconds: number;
  /** CPU seconds per process kind over the measured round: this process (the runtime), DynamoDB Local, the agents, the rest. */
  cpuSeconds: Record<string, number>;
  /** Self time in the runtime's process, by package (node_modules), our own top folders, or Node internals. */
  runtimeShares: { where: string; percent: number }[];
}

/** CPU ticks (user + system) of every live descendant of `root`, by pid, from /proc (Linux). */
function descendantTicks(root: number): Map<number, { ticks: number; command: string }> {
  const stats = new Map<number, { ppid: number; ticks: number; command: string }>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // The command sits in parentheses and may hold spaces: the fields after it are what we need.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const command = readFileSync(`/proc/${name}/cmdline`, 'utf8').replaceAll('\0', ' ');
      stats.set(Number(name), { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]), command });
    } catch {
      // The process ended while we read it.
    }
  }
  const found = new Map<number, { ticks: number; command: string }>();
  const walk = (pid: number) => {
    for (const [child, s] of stats) {
      if (s.ppid !== pid || found.has(child)) continue;
      found.set(child, s);
      walk(child);
    }
  };
  walk(root);
  return found;
}

/** A reading of this process's CPU and its descendants' (cpuSecondsSince takes the difference). */
export function cpuSnapshot() {
  return { runtime: process.cpuUsage(), children: descendantTicks(process.pid) };
}

/** CPU seconds per process kind since `before`: this process (the runtime), then its children by kind. */
export function cpuSecondsSince(before: ReturnType<typeof cpuSnapshot>): Record<string, number> {
  const runtime = process.cpuUsage(before.runtime);
  const seconds: Record<string, number> = { 'runtime (this process)': (runtime.user + runtime.system) / 1e6 };
  for (const [pid, { ticks, command }] of descendantTicks(process.pid)) {
    // Ticks are hundredths of a second; a process that started meanwhile counts from zero.
    seconds[kindOf(command)] = (seconds[kindOf(command)] ?? 0) + (ticks - (before.children.get(pid)?.ticks ?? 0)) / 100;
  }
  return seconds;
}

const kindOf = (command: string) => (command.includes('DynamoDBLocal') ? 'DynamoDB Local (Java)' : command.includes('agent') ? 'agents' : 'other children');

/**
 * The jobs bench's runtime in its steady state: a first round warms it up (DynamoDB Local's JIT, the handlers' first
 * calls), then a measured round runs under the V8 profiler. CPU per process kind is read from /proc and
 * process.cpuUsage around the measured round only, so the start-up's CPU (Java's boot, the agents' imports) is not
 * spread over the jobs. Self time is grouped by where the code lives, which tells the SDK's cost from ours.
 */
export async function benchProfile(options: { warmUpJobs: number; jobs: number }): Promise<ProfileReport> {
  const home = mkdtempSync(join(tmpdir(), 'ff-bench-profile-'));
  const runtime = await startBenchRuntime({ home, jobs: Math.max(options.warmUpJobs, options.jobs), inMemoryTables: true, countCalls: false });
  try {
    // Submitted as the jobs section submits its run against BullMQ: in batches of 25, in memory.
    const runRound = async (jobs: number, endedBefore: number) => {
      await submitJobs(runtime, { jobs, batch: 25, inFlight: 2 });
      await waitForEnds(runtime, endedBefore + jobs, 100);
    };
    await runRound(options.warmUpJobs, 0);
    const session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
    const before = cpuSnapshot();
    const started = performance.now();
    await runRound(options.jobs, options.warmUpJobs);
    const wallSeconds = (performance.now() - started) / 1000;
    const cpuSeconds = cpuSecondsSince(before);
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    return { jobsPerSecond: options.jobs / wallSeconds, jobs: options.jobs, wallSeconds, cpuSeconds, runtimeShares: selfTimeByPlace(profile) };
  } finally {
    await runtime.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

/** The parts of a V8 CPU profile (Profiler.stop) this reads. */
interface Profile {
  nodes: { id: number; callFrame: { url: string; functionName: string } }[];
  samples?: number[];
  timeDeltas?: number[];
}

/** This checkout's root as a file URL: code under it (and outside node_modules) is ours. */
const REPO_ROOT = new URL('..', import.meta.url).href;

function placeOf(url: string, functionName: string): string {
  const module = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (module) return module[1]!;
  if (url.startsWith(REPO_ROOT)) return `${url.slice(REPO_ROOT.length).split('/')[0]}/ (ours)`;
  if (url.startsWith('node:')) return url.replace(/^node:(internal\/)?/, 'node:').split('/')[0]!;
  return functionName ? `(${functionName.replace(/[()]/g, '')})` : '(other)';
}

function selfTimeByPlace(profile: Profile): { where: string; percent: number }[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map<string, number>();
  let all = 0;
  (profile.samples ?? []).forEach((id, i) => {
    const node = byId.get(id);
    const delta = profile.timeDeltas?.[i] ?? 0;
    if (!node) return;
    const place = placeOf(node.callFrame.url, node.callFrame.functionName);
    totals.set(place, (totals.get(place) ?? 0) + delta);
    all += delta;
  });
  return [...totals]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 14)
    .map(([where, time]) => ({ where, percent: Math.round((1000 * time) / all) / 10 }));
}
