/**
 * `npm run bench`: every benchmark prints its figures next to a baseline measured in the same run.
 * Benchmarks report; they never fail the build (tests assert correctness).
 */
import { benchAgentRunner } from './agent-runner.ts';
import { benchEventLatency, formatEventLatency } from './event-latency.ts';
import { benchEndToEnd, printEndToEnd } from './end-to-end.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';

const section = (title: string) => console.log(`\n== ${title}`);

section('Event backbone: commit → consumer (webhook delivered), local runtime, 1,000 JobQueued events each, one submit per 150 ms');
for (const optimisticPublish of [false, true]) {
  console.log(formatEventLatency(await benchEventLatency({ events: 1000, optimisticPublish, paceMs: 150 })));
}

section('Worker agent: 2,000 `true` jobs at concurrency 4, process runner vs raw spawn loop');
const agent = await benchAgentRunner({ jobs: 2000, concurrency: 4 });
console.log(`raw spawn loop   ${agent.raw.jobsPerSecond} jobs/s`);
console.log(`runJobProcess    ${agent.runner.jobsPerSecond} jobs/s`);
console.log(`ratio            ${agent.ratio.toFixed(3)} (median of per-round ratios ${agent.medianRoundRatio.toFixed(3)}; target ≥ 0.9)`);

section('Jobs end to end: 500 `true` jobs, local runtime (2 agents x 4), submit → SUCCEEDED');
printEndToEnd(await benchEndToEnd({ jobs: 500 }));
