import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SAGA_CONFIG_ENV } from '../../functions/saga/wiring.ts';
import { DISPATCH_QUEUES, dispatchQueue } from '../../functions/declarations/workers.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/dynamodb-local.ts';
import { importHandler, setEnvironment } from '../../local/lambda.ts';
import { startLocalSqs, type LocalSqs } from '../../local/sqs.ts';
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
  let sqs: LocalSqs;
  let lowQueueUrl: string;

  beforeAll(async () => {
    testbed = await createSagaTestbed();
    // ClaimJob's entry sends the dispatch itself, over SQS: a local queue for the class and priority the job uses.
    sqs = await startLocalSqs();
    lowQueueUrl = (await sqs.ensureQueue(dispatchQueue('default', 'low'))).url;
    restore = setEnvironment({
      ...testbed.tables.env,
      ...Object.fromEntries(DISPATCH_QUEUES.map((queue) => [queue.envVar, testQueueUrl(queue)])),
      [dispatchQueue('default', 'low').envVar]: lowQueueUrl,
      AWS_ENDPOINT_URL_SQS: sqs.endpoint,
      [SAGA_CONFIG_ENV.tenantSlotLimit]: '3',
      [SAGA_CONFIG_ENV.dispatchGraceSeconds]: '5',
      AWS_ENDPOINT_URL_DYNAMODB: inject('dynamoDbEndpoint'),
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    });
  });

  afterAll(async () => {
    restore();
    await sqs.stop();
  });

  /** Hands what arrives on the low queue to the rig's scripted worker, as an agent's poll would, until stopped. */
  function forwardDispatches(worker: { sendMessage(queueUrl: string, body: string): Promise<void> }) {
    let stopped = false;
    const loop = (async () => {
      while (!stopped) {
        const { Messages = [] } = await sqs.client.send(new ReceiveMessageCommand({ QueueUrl: lowQueueUrl, WaitTimeSeconds: 1 }));
        for (const message of Messages) {
          await worker.sendMessage(lowQueueUrl, message.Body!);
          await sqs.client.send(new DeleteMessageCommand({ QueueUrl: lowQueueUrl, ReceiptHandle: message.ReceiptHandle! }));
        }
      }
    })();
    return async () => {
      stopped = true;
      await loop;
    };
  }

  it('run a job through the saga, reading their configuration at cold start', async () => {
    const handlers: Record<string, StepHandler> = {};
    for (const [step, file] of Object.entries(ENTRIES)) handlers[step] = await importHandler<unknown, unknown>(entry(file)) as StepHandler;
    const rig = testbed.rig({ handlers });
    const stopForwarding = forwardDispatches(rig.worker);
    const jobId = await rig.submit({ command: 'echo', priority: 'low', timeoutSeconds: 10 });

    const execution = await rig.run(jobId);
    await stopForwarding();

    expect(execution.status).toBe('SUCCEEDED');
    const job = await rig.job(jobId);
    expect(job).toMatchObject({ status: 'SUCCEEDED', attempts: 1 });
    expect(rig.worker.received).toHaveLength(1);
    expect(rig.worker.received[0]!.message).toMatchObject({ jobId, attempt: 1, command: 'echo', facts: { tenantId: rig.actor.tenantId, priority: 'low' } });
    // The grace read from the environment (5 s) sets the overdue time, with the job's 10 s and the 15 min margin.
    expect(Date.parse(job.overdueAt!) - Date.parse(job.updatedAt)).toBeGreaterThan((10 + 5 + 15 * 60 - 60) * 1000);
    expect(Date.parse(job.overdueAt!) - Date.parse(job.updatedAt)).toBeLessThanOrEqual((10 + 5 + 15 * 60) * 1000);
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
