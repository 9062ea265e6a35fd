import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SAGA_CONFIG_ENV } from '../../functions/saga/wiring.ts';
import { DISPATCH_QUEUES, dispatchQueue } from '../../functions/declarations/workers.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/dynamodb-local.ts';
import { importHandler, setEnvironment } from '../../local/lambda.ts';
import type { StepHandler } from '../../local/stepfunctions/engine.ts';
import { createSagaTestbed, testQueueUrl } from './harness.ts';

const ENTRIES = {
  ClaimJob: 'claim-job',
  ParkJob: 'park-job',
  RecordSuccess: 'record-success',
  Categorize: 'categorize',
  StopWorkerProcess: 'stop-worker-process',
  ReleaseSlot: 'release-slot',
  RecordFailure: 'record-failure',
} as const;

const entry = (file: string) => `../functions/saga/handlers/${file}.ts`;

/** The Lambda entry modules themselves, configured only through the environment as the CDK app will configure them. */
describe('Saga Lambda entries', () => {
  let testbed: Awaited<ReturnType<typeof createSagaTestbed>>;
  let restore: () => void;

  beforeAll(async () => {
    testbed = await createSagaTestbed();
    restore = setEnvironment({
      ...testbed.tables.env,
      ...Object.fromEntries(DISPATCH_QUEUES.map((queue) => [queue.envVar, testQueueUrl(queue)])),
      [SAGA_CONFIG_ENV.tenantSlotLimit]: '3',
      [SAGA_CONFIG_ENV.dispatchGraceSeconds]: '5',
      AWS_ENDPOINT_URL_DYNAMODB: inject('dynamoDbEndpoint'),
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    });
  });

  afterAll(() => restore());

  it('run a job through the saga, reading their configuration at cold start', async () => {
    const handlers: Record<string, StepHandler> = {};
    for (const [step, file] of Object.entries(ENTRIES)) handlers[step] = await importHandler<unknown, unknown>(entry(file)) as StepHandler;
    const rig = testbed.rig({ handlers });
    const jobId = await rig.submit({ command: 'echo', priority: 'low', timeoutSeconds: 10 });

    const execution = await rig.run(jobId);

    expect(execution.status).toBe('SUCCEEDED');
    expect(await rig.job(jobId)).toMatchObject({ status: 'SUCCEEDED', attempts: 1 });
    expect(rig.worker.received[0]!.queueUrl).toBe(testQueueUrl(dispatchQueue('default', 'low')));
    const claim = rig.engine.history(execution.executionArn).events.find((event) => event.type === 'StateExited' && event.state === 'ClaimJob');
    expect(claim?.output).toMatchObject({ dispatch: { dispatchTimeoutSeconds: 15 } });
    expect(await rig.slotsInUse()).toBe(0);
    await rig.engine.close();
  });

  it('load the worker reports consumer wired to Step Functions', async () => {
    await expect(importHandler('../functions/consumers/worker-reports/handler.ts')).resolves.toBeTypeOf('function');
  });

  it('stop at cold start when a dispatch queue URL is missing', async () => {
    const undo = setEnvironment({ [DISPATCH_QUEUES[0]!.envVar]: '' });
    try {
      await expect(importHandler(entry(ENTRIES.ClaimJob))).rejects.toMatchObject({ name: 'ConfigurationError', message: expect.stringContaining(DISPATCH_QUEUES[0]!.envVar) });
      // The steps that do not dispatch do not need the queues.
      await expect(importHandler(entry(ENTRIES.RecordFailure))).resolves.toBeTypeOf('function');
    } finally {
      undo();
    }
  });
});
