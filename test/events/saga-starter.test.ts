import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { SFNServiceException } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { createEventConsumer, eventFromMessage } from '../../functions/consumers/consumer.ts';
import { eventBridgeMessage } from '../../functions/adapters/sqs/saga-starter-queue.ts';
import { sagaStarter } from '../../functions/consumers/saga-starter/saga-starter.ts';
import type { EventEnvelope } from '../../functions/core/events.ts';
import { lambdaContext } from '../../local/lambda.ts';
import { sampleEvent, sampleJob, sqsRecord } from '../support/events.ts';

const throttled = () => new SFNServiceException({ name: 'ThrottlingException', $fault: 'client', $metadata: { httpStatusCode: 400 }, message: 'Rate exceeded' });

describe('Saga starter under StartExecution throttling', () => {

  it('delays a throttled start instead of failing the message, and starts it on the deferred delivery', async () => {
    const jobId = 'job_00000000000000000000000000000001';
    const event = sampleEvent(sampleJob(jobId));
    const deferred: { event: EventEnvelope; delaySeconds: number; body?: string }[] = [];
    let refusals = 2;
    const starts: string[] = [];
    const handle = sagaStarter({
      saga: {
        // As Step Functions answers a named start: a second one of the same name finds the execution there.
        start: async (jobId, run) => {
          if (refusals-- > 0) throw throttled();
          if (starts.includes(`${jobId}#${run}`)) return 'exists';
          starts.push(`${jobId}#${run}`);
          return 'started';
        },
      },
      defer: async (e, delaySeconds) => void deferred.push({ event: e, delaySeconds }),
      random: () => 0.5,
    });
    const consumer = createEventConsumer({ name: 'saga-starter', logger: new Logger({ logLevel: 'SILENT' }), metrics: new Metrics({ namespace: 'Test' }), handle });

    // Through the SQS consumer: a deferred event is not a batch item failure, so it never counts towards the DLQ.
    const response = await consumer({ Records: [sqsRecord(event)] }, lambdaContext('saga-starter', 30_000));
    expect(response.batchItemFailures).toEqual([]);
    expect(deferred).toEqual([{ event, delaySeconds: 31 }]);
    expect(await handle(deferred[0]!.event)).toBe('deferred');
    expect(await handle(deferred[1]!.event)).toBe('applied');
    expect(starts).toEqual([`${jobId}#1`]);
    expect(await handle(event)).toBe('duplicate');
  });

  it('a deferred event goes back as an EventBridge-shaped message the consumer reads again', async () => {
    const event = sampleEvent();
    const record = { ...sqsRecord(event), body: eventBridgeMessage(event) };
    expect(eventFromMessage(record)).toEqual(event);
  });

  it('lets any other start failure go back to the queue (and, after its receives, to the DLQ)', async () => {
    const event = sampleEvent(sampleJob('job_00000000000000000000000000000002'));
    const handle = sagaStarter({
      saga: { start: async () => Promise.reject(Object.assign(new Error('no such machine'), { name: 'StateMachineDoesNotExist' })) },
      defer: async () => {
        throw new Error('must not defer');
      },
    });
    await expect(handle(event)).rejects.toMatchObject({ name: 'StateMachineDoesNotExist' });
  });
});
