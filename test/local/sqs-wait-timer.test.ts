import { ChangeMessageVisibilityCommand, CreateQueueCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalSqs, type LocalSqs } from '../../local/sqs.ts';
import { nextRecheckMs, patchFauxqsWaitTimer, RECHECK_MAX_MS } from '../../local/sqs-wait-timer.ts';

let sqs: LocalSqs;
beforeAll(async () => {
  sqs = await startLocalSqs();
});
afterAll(() => sqs?.stop());

const newQueue = async () => (await sqs.client.send(new CreateQueueCommand({ QueueName: `wait-${randomUUID().slice(0, 8)}` }))).QueueUrl!;
const receive = (QueueUrl: string, WaitTimeSeconds: number, VisibilityTimeout?: number) =>
  sqs.client.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds, VisibilityTimeout, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }));

describe('The recheck of a queue while a long poll waits on it', () => {
  it('is patched into this fauxqs (a fauxqs whose queue class changed shape fails here)', async () => {
    expect(await patchFauxqsWaitTimer()).toBe(true);
  });

  it('is set at the next visibility or delay deadline, between 20 ms and the maximum', () => {
    const now = 1_000_000;
    const none = { inflightMessages: new Map(), delayedMessages: [], fifoDelayed: new Map() };
    expect(nextRecheckMs(none, now)).toBe(RECHECK_MAX_MS);
    expect(nextRecheckMs({ ...none, inflightMessages: new Map([['h', { visibilityDeadline: now + 90 }]]) }, now)).toBe(90);
    expect(nextRecheckMs({ ...none, delayedMessages: [{ delayUntil: now + 120 }, { delayUntil: now + 60 }] }, now)).toBe(60);
    expect(nextRecheckMs({ ...none, fifoDelayed: new Map([['g', [{ delayUntil: now + 30 }]]]) }, now)).toBe(30);
    // A deadline already passed is rechecked at fauxqs's own pace, not in a busy loop.
    expect(nextRecheckMs({ ...none, inflightMessages: new Map([['h', { visibilityDeadline: now - 5 }]]) }, now)).toBe(20);
    expect(nextRecheckMs({ ...none, delayedMessages: [{ delayUntil: now + 10_000 }] }, now)).toBe(RECHECK_MAX_MS);
  });

  it('hands a waiting receive the message whose visibility ran out during the wait', async () => {
    const url = await newQueue();
    await sqs.client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'again' }));
    const first = await receive(url, 1, 1);
    expect(first.Messages?.map((m) => m.Body)).toEqual(['again']);
    const started = Date.now();
    const second = await receive(url, 10);
    expect(second.Messages?.map((m) => [m.Body, m.Attributes?.ApproximateReceiveCount])).toEqual([['again', '2']]);
    // Well before the wait's end: the recheck followed the visibility deadline.
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('hands a waiting receive a delayed message once its delay is over, and a visibility shortened meanwhile', async () => {
    const delayedUrl = await newQueue();
    await sqs.client.send(new SendMessageCommand({ QueueUrl: delayedUrl, MessageBody: 'later', DelaySeconds: 1 }));
    const delayed = await receive(delayedUrl, 10);
    expect(delayed.Messages?.map((m) => m.Body)).toEqual(['later']);

    const url = await newQueue();
    await sqs.client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'shortened' }));
    const held = (await receive(url, 1, 600)).Messages![0]!;
    const waiting = receive(url, 10);
    await sqs.client.send(new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: held.ReceiptHandle, VisibilityTimeout: 1 }));
    const started = Date.now();
    expect((await waiting).Messages?.map((m) => m.Body)).toEqual(['shortened']);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
