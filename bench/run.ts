/**
 * `npm run bench`: every benchmark prints its figures next to a baseline measured in the same run.
 * Benchmarks report; they never fail the build (tests assert correctness).
 * `npm run bench -- faults` (or any other section names) runs only those sections.
 */
import { availableParallelism } from 'node:os';
import { benchAgentRunner } from './agent-runner.ts';
import { benchEventLatency, formatEventLatency } from './event-latency.ts';
import { BENCH_FLEET, BULLMQ_CONCURRENCY, benchEndToEnd, printEndToEnd } from './end-to-end.ts';
import { benchFaults } from './faults.ts';
import { benchColdStart, benchLaunchBurst } from './fleet.ts';
import { benchBullMq } from './bullmq.ts';
import { benchBundles } from './bundles.ts';
import { benchIdleLatency } from './idle-latency.ts';
import { benchMonitoring } from './monitoring.ts';
import { benchProfile } from './profile.ts';
import { round } from './stats.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';

const SECTIONS: Record<string, { title: string; run: () => Promise<void> }> = {
  events: {
    title: 'Event backbone: commit → consumer (webhook delivered), local runtime, 1,000 JobQueued events each, one submit per 150 ms',
    run: async () => {
      for (const optimisticPublish of [false, true]) console.log(formatEventLatency(await benchEventLatency({ events: 1000, optimisticPublish, paceMs: 150 })));
    },
  },
  agent: {
    title: 'Worker agent: 2,000 `true` jobs at concurrency 4, process runner vs raw spawn loop',
    run: async () => {
      const agent = await benchAgentRunner({ jobs: 2000, concurrency: 4 });
      console.log(`raw spawn loop   ${agent.raw.jobsPerSecond} jobs/s`);
      console.log(`runJobProcess    ${agent.runner.jobsPerSecond} jobs/s`);
      console.log(`ratio            ${agent.ratio.toFixed(3)} (median of per-round ratios ${agent.medianRoundRatio.toFixed(3)}; target ≥ 0.9)`);
    },
  },
  jobs: {
    title: `Jobs end to end: 500 \`true\` jobs, local runtime (${BENCH_FLEET.agents} agents x ${BENCH_FLEET.slotsPerAgent}), submit → SUCCEEDED, against BullMQ at concurrency ${BULLMQ_CONCURRENCY}`,
    run: async () => {
      // Like for like with the BullMQ side: its 500 jobs go in with addBulk and its Redis keeps nothing on disk, so
      // ours go in batches of 25 and DynamoDB Local keeps its tables in memory. A first run counts and prices the
      // calls; the rounds against BullMQ then run without the counting proxies, as `npm start` runs. The two
      // alternate, twice (ours, BullMQ, ours, BullMQ), and the ratio is of the means: this machine's speed drifts by a
      // fifth between minutes, and alternating puts the drift on both sides. Then 200 jobs as `npm start` runs them
      // (tables on disk), each submitted alone, for what each call costs on that path.
      const counted = await benchEndToEnd({ jobs: 500, batch: 25, inFlight: 2, inMemoryTables: true });
      printEndToEnd(counted);
      console.log(`(the counting proxies' hop costs the runtime CPU: its pace with them is not the one compared below)`);
      const ours: number[] = [];
      const bull: number[] = [];
      for (let round = 1; round <= 2; round++) {
        const run = await benchEndToEnd({ jobs: 500, batch: 25, inFlight: 2, inMemoryTables: true, countCalls: false });
        console.log(`round ${round}, without the counting proxies:`);
        printEndToEnd(run);
        ours.push(run.jobsPerSecond);
        // The reference: BullMQ spawning the same command at the same concurrency (BENCH_FLEET's slots), same machine.
        const reference = await benchBullMq({ jobs: 500, concurrency: BULLMQ_CONCURRENCY });
        if ('skipped' in reference) {
          console.log(`BullMQ                       skipped: ${reference.skipped}`);
          break;
        }
        bull.push(reference.jobsPerSecond);
      }
      const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
      if (bull.length > 0) {
        console.log(`rounds (ours / BullMQ 6 on Redis, jobs/s)  ${ours.map((o, i) => `${o} / ${bull[i]}`).join(', ')}`);
        console.log(`Forgeflow local is ${(mean(ours) / mean(bull)).toFixed(2)}× BullMQ (means of the rounds; goal ≥ 0.35×)`);
      }
      console.log('-- 200 jobs each submitted alone (POST /v1/jobs), tables on disk as `npm start` keeps them:');
      printEndToEnd(await benchEndToEnd({ jobs: 200 }));
    },
  },
  profile: {
    title: 'Where the time goes: 500 `true` jobs end to end after 300 to warm up, CPU per job by process and inside the runtime',
    run: async () => {
      const r = await benchProfile({ warmUpJobs: 300, jobs: 500 });
      console.log(`${round(r.jobsPerSecond)} jobs/s warm, under the profiler; ${r.wallSeconds.toFixed(0)} s of wall time on ${availableParallelism()} cores`);
      for (const [kind, seconds] of Object.entries(r.cpuSeconds)) {
        console.log(`  CPU ${kind.padEnd(24)} ${round((1000 * seconds) / r.jobs)} ms per job (${Math.round((100 * seconds) / r.wallSeconds)}% of one core)`);
      }
      console.log('  inside the runtime, self time by where the code lives:');
      for (const { where, percent } of r.runtimeShares) console.log(`    ${String(percent).padStart(5)}%  ${where}`);
    },
  },
  idle: {
    title: 'Idle latency: one `true` job at a time on an idle local runtime (one warm worker), submit → SUCCEEDED, 40 jobs',
    run: async () => {
      const r = await benchIdleLatency({ jobs: 43 });
      console.log(`submit → SUCCEEDED (client)  p50 ${r.total.p50} ms  p99 ${r.total.p99} ms  (${r.jobs} jobs; target p50 ≤ 300 ms)`);
      console.log(`created → started            p50 ${r.createdToStarted.p50} ms  p99 ${r.createdToStarted.p99} ms`);
      console.log(`started → SUCCEEDED recorded p50 ${r.startedToSucceeded.p50} ms  p99 ${r.startedToSucceeded.p99} ms`);
      console.log(`then idle for 15 s, % of one core: ${Object.entries(r.idle).map(([kind, percent]) => `${kind} ${percent}%`).join(', ')}`);
    },
  },
  bundles: {
    title: "Lambda bundles: every function as the CDK app bundles it (minified ESM, source maps apart, the runtime's AWS SDK left out), and its cold import",
    run: async () => {
      const b = await benchBundles();
      console.log('    bundle   cold import  function');
      for (const { entry, kb, coldImportMs } of b.functions) console.log(`${String(kb).padStart(7)} KB ${String(coldImportMs).padStart(9)} ms  ${entry}`);
      console.log(`largest ${b.largest}: ${b.coldImportMs} ms to import; slowest ${b.slowest.entry}: ${b.slowest.coldImportMs} ms (targets: bundles ≤ 300 KB, import ≤ 2× a bare handler)`);
      console.log(`a bare handler: ${b.bare} ms; one with a DynamoDB client: ${b.bareWithSdk} ms`);
    },
  },
  burst: {
    title: 'Fleet: a burst of 1,000 queued jobs against an EC2 that throttles RunInstances at burst 5, refill 2/s (max 50 workers)',
    run: async () => {
      const burst = await benchLaunchBurst({ jobs: 1000, maxWorkers: 50 });
      console.log(`RunInstances calls ${burst.run} for ${burst.launched} launches (${burst.callsPerLaunch} per launch; no storm means ≤ 1.5), ${burst.throttled} throttled`);
      console.log(`fleet at its maximum after ${burst.seconds} s (the account's bucket allows 50 launches in 22.5 s at best)`);
    },
  },
  coldstart: {
    title: 'Fleet: local cold start, a job queued on an empty fleet (minimum 0) until it runs, 5 rounds',
    run: async () => {
      const cold = await benchColdStart({ runs: 5 });
      console.log(`JobQueued → RUNNING p50 ${cold.toRunningP50} ms (max ${cold.toRunningMax} ms); JobQueued → worker READY p50 ${cold.toReadyP50} ms`);
    },
  },
  monitoring: {
    title: 'Monitoring: one scheduled collection of 100 and 1,200 READY workers (EC2 and CloudWatch stubbed, store in memory): calls and cost',
    run: async () => {
      for (const workers of [100, 1200]) {
        const m = await benchMonitoring({ workers });
        console.log(
          `${m.workers} workers: ${m.describeInstanceStatusCalls} DescribeInstanceStatus, ${m.getMetricDataCalls} GetMetricData (${m.metricsRequested} metrics), ` +
            `${m.transactions} transactions (${m.wru} WRU), ${m.events} events, ${m.ms} ms; per worker-month at the default schedule USD ${JSON.stringify(m.usdPerWorkerMonth)} ` +
            `(+ ${m.detailedMonitoringUsdPerWorkerMonth} with detailed monitoring)`,
        );
      }
    },
  },
  faults: {
    title: 'Faults: 2,000 jobs with 1% and 5% of DynamoDB, SQS, Step Functions and EventBridge calls failing, one worker SIGKILLed',
    run: async () => {
      for (const rate of [0.01, 0.05]) {
        const r = await benchFaults({ jobs: 2000, rate });
        console.log(
          `rate ${rate * 100}%: ${r.jobs} jobs in ${r.seconds} s; duplicate side effects ${r.duplicateSideEffects} (must be 0), stuck ${r.stuck} (must be 0), ` +
            `wrong outcome ${r.wrongOutcome}, slots left ${r.slotsLeft}; faults injected ${JSON.stringify(r.faults)}`,
        );
      }
    },
  },
};

const only = process.argv.slice(2);
for (const [name, section] of Object.entries(SECTIONS)) {
  if (only.length > 0 && !only.includes(name)) continue;
  console.log(`\n== ${section.title}`);
  await section.run();
}
