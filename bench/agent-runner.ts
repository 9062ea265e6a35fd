import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { runJobProcess } from '../agent/process-runner.ts';

/**
 * The cost of the agent's process runner over a bare spawn: N `true` jobs through runJobProcess, and the same N
 * through `child_process.spawn('/bin/sh', ['-c', 'true'])`, both at the same concurrency, in the same run.
 *
 * The two loops alternate in rounds (A B B A ...) after a warm-up, so drift in machine load or CPU frequency
 * lands on both sides instead of on whichever ran second; the median per-round ratio shrugs off a burst in one
 * round. The agent's own CPU per job is reported too: wall time includes the kernel's fork/exec and the children,
 * which the runner does not control, while CPU time in this process is exactly where the runner's overhead lives. Run: `npx tsx bench/agent-runner.ts [--jobs N] [--concurrency C]`.
 */
export interface BenchAgentRunnerOptions {
  jobs?: number;
  concurrency?: number;
  /** How many alternating rounds the jobs are split into (more rounds: less sensitive to load bursts). */
  rounds?: number;
}

export interface LoopFigures {
  jobs: number;
  failures: number;
  durationMs: number;
  jobsPerSecond: number;
  /** CPU time of this (the agent's) process per job, user + system: the runner's own overhead shows up here. */
  parentCpuUsPerJob: number;
}

export interface BenchAgentRunnerResult {
  jobs: number;
  concurrency: number;
  runner: LoopFigures;
  raw: LoopFigures;
  /** runner jobs/s ÷ raw jobs/s over the whole run: 1 means the runner adds nothing measurable. */
  ratio: number;
  /** The median of the per-round ratios: robust to a burst of load from other processes during one round. */
  medianRoundRatio: number;
}

type OneJob = () => Promise<boolean>;

const runnerJob: OneJob = async () => {
  const outcome = await runJobProcess({ command: 'true', timeoutSeconds: 60 });
  return outcome.exitCode === 0;
};

const rawJob: OneJob = () =>
  new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', 'true']);
    child.once('error', () => resolve(false));
    child.once('close', (code) => resolve(code === 0));
  });

interface LoopResult {
  jobs: number;
  failures: number;
  durationMs: number;
  cpuUs: number;
}

/** Runs `jobs` jobs with at most `concurrency` in flight. */
async function loop(job: OneJob, jobs: number, concurrency: number): Promise<LoopResult> {
  let next = 0;
  let failures = 0;
  const started = performance.now();
  const cpu = process.cpuUsage();
  const lane = async () => {
    while (next < jobs) {
      next++;
      if (!(await job())) failures++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, jobs) }, lane));
  const used = process.cpuUsage(cpu);
  return { jobs, failures, durationMs: performance.now() - started, cpuUs: used.user + used.system };
}

function figures(results: LoopResult[]): LoopFigures {
  const sum = (key: keyof LoopResult) => results.reduce((total, r) => total + r[key], 0);
  const jobs = sum('jobs');
  const durationMs = sum('durationMs');
  return {
    jobs,
    failures: sum('failures'),
    durationMs: Math.round(durationMs),
    jobsPerSecond: round((jobs / durationMs) * 1000, 1),
    parentCpuUsPerJob: Math.round(sum('cpuUs') / jobs),
  };
}

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;

export async function benchAgentRunner(options: BenchAgentRunnerOptions = {}): Promise<BenchAgentRunnerResult> {
  const { jobs = 2000, concurrency = 4 } = options;
  const rounds = Math.max(1, Math.min(options.rounds ?? 10, jobs));
  const warmup = Math.min(100, jobs);
  await loop(rawJob, warmup, concurrency);
  await loop(runnerJob, warmup, concurrency);

  const raw: LoopResult[] = [];
  const runner: LoopResult[] = [];
  for (let i = 0; i < rounds; i++) {
    const share = Math.floor(jobs / rounds) + (i < jobs % rounds ? 1 : 0);
    // A B B A: neither side always runs first.
    if (i % 2 === 0) {
      raw.push(await loop(rawJob, share, concurrency));
      runner.push(await loop(runnerJob, share, concurrency));
    } else {
      runner.push(await loop(runnerJob, share, concurrency));
      raw.push(await loop(rawJob, share, concurrency));
    }
  }
  const roundRatios = runner.map((r, i) => raw[i]!.durationMs / r.durationMs).sort((a, b) => a - b);
  const middle = Math.floor(roundRatios.length / 2);
  const median = roundRatios.length % 2 ? roundRatios[middle]! : (roundRatios[middle - 1]! + roundRatios[middle]!) / 2;
  const runnerFigures = figures(runner);
  const rawFigures = figures(raw);
  return {
    jobs,
    concurrency,
    runner: runnerFigures,
    raw: rawFigures,
    ratio: round(runnerFigures.jobsPerSecond / rawFigures.jobsPerSecond, 3),
    medianRoundRatio: round(median, 3),
  };
}

function argument(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index >= 0 ? Number(process.argv[index + 1]) : fallback;
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer`);
  return value;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await benchAgentRunner({ jobs: argument('jobs', 2000), concurrency: argument('concurrency', 4) });
  const line = (name: string, f: LoopFigures) =>
    `${name.padEnd(28)} ${String(f.jobsPerSecond).padStart(8)} jobs/s  ${String(f.parentCpuUsPerJob).padStart(5)} µs agent CPU/job  (${f.jobs} jobs in ${f.durationMs} ms, ${f.failures} failed)`;
  console.log(`agent process runner, ${result.jobs} x \`true\`, concurrency ${result.concurrency}`);
  console.log(line('raw spawn(/bin/sh -c true)', result.raw));
  console.log(line('runJobProcess', result.runner));
  console.log(`ratio runner/raw             ${result.ratio.toFixed(3)} (median of per-round ratios ${result.medianRoundRatio.toFixed(3)})`);
}
