import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeImagesCommand, DescribeInstancesCommand, EC2Client, EC2ServiceException, RunInstancesCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { createDocumentClient } from '../functions/adapters/dynamodb/client.ts';
import { DynamoRateLimiter } from '../functions/adapters/dynamodb/rate-limiter.ts';
import { DynamoWorkerStore } from '../functions/adapters/dynamodb/worker-store.ts';
import { Ec2WorkerProvider, TAG_WORKER_ID } from '../functions/adapters/ec2/worker-provider.ts';
import { createFleet } from '../functions/core/fleet/fleet.ts';
import { EC2_RATE_LIMITS } from '../functions/core/fleet/ec2-rate-limits.ts';
import { takeToken, type BucketState } from '../functions/core/token-bucket.ts';
import type { EventEnvelope } from '../functions/core/events.ts';
import { systemClock } from '../functions/core/ports.ts';
import { PROVISION_WORKER } from '../functions/declarations/statemachines.ts';
import { localTableName, WORKERS_TABLE, COUNTERS_TABLE, OUTBOX_TABLE } from '../functions/declarations/tables.ts';
import { WORKER_CLASS_DEFINITIONS } from '../functions/declarations/worker-classes.ts';
import { createProvisionSteps } from '../functions/fleet/steps.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION, startDynamoDbLocal } from '../local/dynamodb-local.ts';
import { startLocalRuntime } from '../local/runtime.ts';
import { LocalStepFunctionsEngine } from '../local/stepfunctions/engine.ts';
import { localStateMachineArn, type AslDefinition } from '../local/stepfunctions/local-definition.ts';
import { ensureTables } from '../local/tables.ts';
import { percentile, round } from './stats.ts';

/** Cold start locally: a job queued on an empty fleet (minimum 0) until it runs, over `runs` rounds. */
export async function benchColdStart(options: { runs: number }) {
  const home = mkdtempSync(join(tmpdir(), 'ff-bench-fleet-'));
  const runtime = await startLocalRuntime({ home, port: 0, log: () => {}, workers: 0, fleet: { minWorkers: 0, maxWorkers: 1, idleTimeoutSeconds: 1, minRunningSeconds: 0, heartbeatIntervalSeconds: 1, scaleIntervalMs: 1000, reapIntervalMs: 5000 } });
  const headers = { authorization: `Bearer ${runtime.tokens.user}`, 'content-type': 'application/json' };
  const fleet = runtime.fleet!.fleet;
  const samples: { toRunning: number; toReady: number }[] = [];
  try {
    for (let run = 0; run < options.runs; run++) {
      await until(async () => (await fleet.context.store.activeCount('default')) === 0 && (await runtime.fleet!.provider.listInstances()).length === 0);
      const { jobId } = (await (await fetch(`${runtime.url}/v1/jobs`, { method: 'POST', headers, body: JSON.stringify({ command: 'true' }) })).json()) as { jobId: string };
      await until(async () => ((await (await fetch(`${runtime.url}/v1/jobs/${jobId}`, { headers })).json()) as { status: string }).status === 'SUCCEEDED');
      const events = ((await (await fetch(`${runtime.url}/v1/jobs/${jobId}/events`, { headers })).json()) as { items: EventEnvelope[] }).items;
      const at = (type: string) => Date.parse(events.find((e) => e.type === type)!.time);
      const runningEvent = events.find((e) => e.type === 'JobRunning')! as EventEnvelope<'JobRunning'>;
      const worker = (await fleet.context.store.get(runningEvent.data.workerId))!;
      samples.push({ toRunning: at('JobRunning') - at('JobQueued'), toReady: Date.parse(worker.readyAt!) - at('JobQueued') });
    }
  } finally {
    await runtime.stop();
    rmSync(home, { recursive: true, force: true });
  }
  const running = samples.map((s) => s.toRunning);
  const ready = samples.map((s) => s.toReady);
  return { runs: options.runs, toRunningP50: percentile(running, 50), toRunningMax: Math.max(...running), toReadyP50: percentile(ready, 50) };
}

/**
 * A burst against an EC2 that throttles like the real one (RunInstances: burst 5, refill 2/s, RequestLimitExceeded
 * beyond): 1,000 queued jobs, the real scaler, provisioning saga (local engine), EC2 adapter and shared token bucket.
 * Counts every RunInstances call EC2 saw, and the time until the fleet reaches its maximum.
 */
export async function benchLaunchBurst(options: { jobs: number; maxWorkers: number }) {
  const dynamo = await startDynamoDbLocal();
  const raw = new DynamoDBClient({ endpoint: dynamo.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  await ensureTables(raw, localTableName);
  raw.destroy();
  const client = createDocumentClient({ endpoint: dynamo.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const ec2 = mockClient(EC2Client);
  const ssm = mockClient(SSMClient);
  ssm.on(GetParameterCommand).resolves({ Parameter: { Value: 'ami-0123456789abcdef0' } });
  let bucket: BucketState | undefined;
  const calls = { run: 0, throttled: 0, launched: 0 };
  let nextInstance = 1;
  ec2.on(DescribeImagesCommand).resolves({ Images: [{ ImageId: 'ami-0123456789abcdef0', RootDeviceName: '/dev/xvda', State: 'available', CreationDate: '2026-11-01T00:00:00.000Z' }] });
  ec2.on(RunInstancesCommand).callsFake(() => {
    calls.run += 1;
    const outcome = takeToken(bucket, EC2_RATE_LIMITS.RunInstances, Date.now());
    bucket = outcome.state;
    if (!outcome.granted) {
      calls.throttled += 1;
      throw new EC2ServiceException({ name: 'RequestLimitExceeded', $fault: 'client', $metadata: { httpStatusCode: 503 }, message: 'Request limit exceeded.' });
    }
    calls.launched += 1;
    return { Instances: [{ InstanceId: `i-${(nextInstance++).toString(16).padStart(17, '0')}`, InstanceType: 'm7g.large', Placement: { AvailabilityZone: 'us-east-1a' } }] };
  });
  ec2.on(TerminateInstancesCommand).resolves({});
  ec2.on(DescribeInstancesCommand).callsFake((input: { InstanceIds?: string[] }) => ({
    Reservations: [{ Instances: (input.InstanceIds ?? []).map((id) => ({ InstanceId: id, State: { Name: 'running' }, LaunchTime: new Date(), Tags: [{ Key: TAG_WORKER_ID, Value: workerOf.get(id) }] })) }],
  }));
  const workerOf = new Map<string, string>();
  const classes = WORKER_CLASS_DEFINITIONS.map((c) => ({ ...c, maxWorkers: options.maxWorkers }));
  const arn = localStateMachineArn(PROVISION_WORKER.name);
  const fleet = createFleet({
    store: new DynamoWorkerStore(client, { workers: localTableName(WORKERS_TABLE), outbox: localTableName(OUTBOX_TABLE), counters: localTableName(COUNTERS_TABLE) }),
    provider: new Ec2WorkerProvider({ ec2: new EC2Client({ region: 'us-east-1' }), ssm: new SSMClient({ region: 'us-east-1' }) }, { stackName: 'bench', launchTemplateIds: { default: 'lt-0123456789abcdef0' }, userData: () => '#!/bin/bash\n' }),
    runner: {
      start: async (workerId) => void (await engine.startExecution({ stateMachineArn: arn, name: workerId, input: JSON.stringify({ workerId }) })),
      registrationSucceeded: async (token, output) => engine.registry.succeed(token, output),
    },
    clock: systemClock,
    runtime: 'aws',
    region: 'us-east-1',
    classes,
    queueDepth: { depth: async () => ({ waiting: options.jobs, inFlight: 0 }) },
    limiter: new DynamoRateLimiter(client, { table: localTableName(COUNTERS_TABLE), limits: EC2_RATE_LIMITS }),
  });
  const steps = createProvisionSteps(fleet);
  // The agent of each launched instance registers as soon as its worker is recorded BOOTING (a 0 s boot).
  const launch = steps.Launch;
  steps.Launch = async (input) => {
    const result = (await launch(input)) as { instanceId: string };
    const { workerId } = input as { workerId: string };
    workerOf.set(result.instanceId, workerId);
    void fleet.agents.register({ workerId, instanceId: result.instanceId, agentVersion: 'bench' }).catch(() => undefined);
    return result;
  };
  // Referenced by the runner above only once executions start, after this line.
  const engine = new LocalStepFunctionsEngine({
    stateMachines: [{ arn, definition: JSON.parse(readFileSync(PROVISION_WORKER.definitionPath, 'utf8')) as AslDefinition, handlers: steps }],
    sendMessage: async () => undefined,
  });
  const started = performance.now();
  let lastScale = Number.NEGATIVE_INFINITY;
  try {
    // The schedule and the JobDispatched nudges run the scaler again and again during a burst: every 5 s here.
    await until(async () => {
      if (performance.now() - lastScale > 5000) {
        lastScale = performance.now();
        await fleet.scaler!.reconcile('default', 'bench');
      }
      return (await fleet.context.store.list({ class: 'default', state: 'READY', limit: options.maxWorkers + 1 })).items.length >= options.maxWorkers;
    }, 600_000);
  } finally {
    await engine.close();
    ec2.restore();
    ssm.restore();
    await dynamo.stop();
  }
  return { ...calls, seconds: round((performance.now() - started) / 1000, 1), callsPerLaunch: round(calls.run / Math.max(1, calls.launched), 2) };
}

async function until(condition: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('bench condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
