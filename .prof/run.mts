import { benchEndToEnd } from '../bench/end-to-end.ts';
const r = await benchEndToEnd({ jobs: 500 });
console.log(JSON.stringify({ jobsPerSecond: r.jobsPerSecond, submitPerSecond: r.submitPerSecond }));
