import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { longestFirstSequencer } from './test/support/sequencer.ts';
import { testKinds } from './test/support/test-kinds.ts';

// Node 20 is supported by the SDK versions we pin; its notice about 2027 is noise in test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const kinds = testKinds(fileURLToPath(new URL('.', import.meta.url)));
const shared = {
  testTimeout: 30_000,
  hookTimeout: 120_000,
  pool: 'forks',
  env: { AWS_REGION: 'us-east-1', POWERTOOLS_DEV: 'false', POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' },
} as const;

/**
 * One module graph per worker, not per file: each file re-imported aws-cdk-lib, the SDK, zod and (integration) the
 * runtime. Unit phase 102 s → 62 s on 2 cores; integration imports 52 s → 11 s, the phase 290 s → 245 s. The price
 * is that files share a process: a file restores what it stubs (aws-sdk-client-mock's restore(); env and globals are
 * restored by the options), and a local runtime restores the environment it sets and takes fresh handler modules at
 * each start (local/lambda.ts), as three runtimes in one file always did.
 */
const oneModuleGraphPerWorker = { isolate: false, unstubEnvs: true, unstubGlobals: true } as const;

/**
 * Two projects. `unit`: no Java, no processes, so `npm run test:unit` is the quick loop. `integration`: DynamoDB
 * Local (one in-memory instance per run, started by the global setup), the local runtime and agent processes.
 * `npm test` runs both, one after the other. test/support/test-kinds.ts tells them apart from what each file imports.
 *
 * Unit files share nothing, so they use every core (on 2 cores: 87 s instead of 126 s). Integration files run two at
 * a time, against the one DynamoDB Local (each makes its own tables, runtimes and ports): one at a time left half of
 * 2 cores idle once DynamoDB Local ran lighter (local/dynamodb-watchdog.mjs), and two took the suite from 723 s to
 * 512 s. Before that change, two at once had made it slower (629 s against 564 s). Three at once, or one pool of
 * three for both projects, was no faster on 2 cores (272 to 300 s against 278 to 300 s): the suite is bound by CPU,
 * and three spent about 490 CPU-seconds where two spend 400; the timing-sensitive e2e files stretched most (faults
 * 43 s alone, up to 125 s). The longest files run first (test/support/sequencer.ts).
 */
export default defineConfig({
  test: {
    sequence: { sequencer: longestFirstSequencer(kinds) },
    projects: [
      {
        test: {
          ...shared,
          name: 'unit',
          include: kinds.unit,
          maxWorkers: Math.max(2, availableParallelism()),
          ...oneModuleGraphPerWorker,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          ...shared,
          name: 'integration',
          include: kinds.integration,
          globalSetup: ['test/support/global-setup.ts'],
          maxWorkers: 2,
          ...oneModuleGraphPerWorker,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
