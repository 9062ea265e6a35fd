import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { EventBridgePublisher, PUT_EVENTS_MAX_BYTES, putEventsEntrySize } from '../../functions/adapters/eventbridge/event-publisher.ts';
import { PoisonRecordError, relayBatch } from '../../functions/relay/relay.ts';
import { sampleEvent, sampleJob, streamRecord } from '../support/events.ts';

const eventBridge = mockClient(EventBridgeClient);
// Test files share a process (the unit project does not isolate them): the stub must not outlive this file.
afterAll(() => eventBridge.restore());
const noSleep = async () => {};

function events(n: number) {
  return Array.from({ length: n }, (_, i) => sampleEvent(sampleJob(`job_${String(i).padStart(32, '0')}`)));
}

describe('Class: EventBridgePublisher', () => {
  beforeEach(() => eventBridge.reset());

  it('sends at most 10 entries per PutEvents with source, detail-type and the envelope as detail', async () => {
    eventBridge.on(PutEventsCommand).callsFake((input) => ({ FailedEntryCount: 0, Entries: input.Entries.map((_: unknown, i: number) => ({ EventId: `id${i}` })) }));
    const batch = events(23);
    const publisher = new EventBridgePublisher(new EventBridgeClient({}), { busName: 'forgeflow', sleep: noSleep });

    const outcome = await publisher.publish(batch);

    expect(outcome.failed).toEqual([]);
    const calls = eventBridge.commandCalls(PutEventsCommand);
    expect(calls.map((c) => c.args[0].input.Entries!.length)).toEqual([10, 10, 3]);
    expect(calls[0]!.args[0].input.Entries![0]).toMatchObject({
      EventBusName: 'forgeflow', Source: 'forgeflow.jobs', DetailType: 'JobQueued', Detail: JSON.stringify(batch[0]),
    });
  });

  it('sizes batches by bytes too: ten large events never go in one request over 256 KB', async () => {
    eventBridge.on(PutEventsCommand).callsFake((input) => ({ FailedEntryCount: 0, Entries: input.Entries.map((_: unknown, i: number) => ({ EventId: `id${i}` })) }));
    // Each event carries a 60 KB callback-free metadata-sized payload in its data, so four fit in a request, not ten.
    const big = events(10).map((event) => ({ ...event, data: { ...event.data, result: { exitCode: 1, durationMs: 1, outputTail: 'x'.repeat(60_000) } } }));
    const tooBig = { ...big[0]!, id: '01KBZZZZZZZZZZZZZZZZZZZZZZ', data: { ...big[0]!.data, result: { exitCode: 1, durationMs: 1, outputTail: 'x'.repeat(300_000) } } };
    const publisher = new EventBridgePublisher(new EventBridgeClient({}), { busName: 'forgeflow', sleep: noSleep });

    const outcome = await publisher.publish([...big, tooBig]);

    expect(outcome.failed).toEqual([expect.objectContaining({ eventId: tooBig.id, errorCode: 'EntryTooLarge' })]);
    const calls = eventBridge.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries!);
    expect(calls.map((entries) => entries.length)).toEqual([4, 4, 2]);
    for (const entries of calls) expect(entries.reduce((sum, e) => sum + putEventsEntrySize(e), 0)).toBeLessThanOrEqual(PUT_EVENTS_MAX_BYTES);
  });

  it('retries only the entries that failed (FailedEntryCount)', async () => {
    const batch = events(5);
    eventBridge
      .on(PutEventsCommand)
      .resolvesOnce({
        FailedEntryCount: 2,
        Entries: [{ EventId: 'a' }, { ErrorCode: 'ThrottlingException', ErrorMessage: 'slow down' }, { EventId: 'c' }, { ErrorCode: 'InternalFailure' }, { EventId: 'e' }],
      })
      .resolvesOnce({ FailedEntryCount: 0, Entries: [{ EventId: 'b' }, { EventId: 'd' }] });
    const publisher = new EventBridgePublisher(new EventBridgeClient({}), { busName: 'forgeflow', sleep: noSleep });

    const outcome = await publisher.publish(batch);

    expect(outcome.failed).toEqual([]);
    const second = eventBridge.commandCalls(PutEventsCommand)[1]!.args[0].input.Entries!;
    expect(second.map((e) => JSON.parse(e.Detail!).id)).toEqual([batch[1]!.id, batch[3]!.id]);
  });

  it('reports the entries still failing after its attempts, and a call that throws fails the whole batch', async () => {
    const batch = events(2);
    eventBridge.on(PutEventsCommand).callsFake((input) => ({
      FailedEntryCount: 1,
      Entries: input.Entries.map((e: { Detail: string }) => (JSON.parse(e.Detail).id === batch[1]!.id ? { ErrorCode: 'InternalFailure', ErrorMessage: 'x' } : { EventId: 'a' })),
    }));
    const publisher = new EventBridgePublisher(new EventBridgeClient({}), { busName: 'forgeflow', sleep: noSleep, maxAttempts: 3 });
    const outcome = await publisher.publish(batch);
    expect(outcome.failed).toEqual([{ eventId: batch[1]!.id, errorCode: 'InternalFailure', errorMessage: 'x' }]);
    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(3);

    eventBridge.reset();
    eventBridge.on(PutEventsCommand).rejects(new Error('network down'));
    const thrown = await publisher.publish(batch);
    expect(thrown.failed.map((f) => f.eventId)).toEqual(batch.map((e) => e.id));
  });
});

describe('Function: relayBatch', () => {
  beforeEach(() => eventBridge.reset());

  it('fails only the poison and the refused records, and skips TTL removals', async () => {
    const [good, refused] = events(2);
    const records = [
      streamRecord(good!, '100'),
      streamRecord(refused!, '200'),
      streamRecord(good!, '300', '{"not":"an event"}'),
      { ...streamRecord(good!, '400'), eventName: 'REMOVE' as const },
    ];
    eventBridge.on(PutEventsCommand).callsFake((input) => ({
      FailedEntryCount: 1,
      Entries: input.Entries.map((e: { Detail: string }) => (JSON.parse(e.Detail).id === refused!.id ? { ErrorCode: 'InternalFailure' } : { EventId: 'ok' })),
    }));
    const publisher = new EventBridgePublisher(new EventBridgeClient({}), { busName: 'forgeflow', sleep: noSleep, maxAttempts: 2 });

    const errors = await relayBatch(records, publisher);

    expect([...errors.keys()].sort()).toEqual(['200', '300']);
    expect(errors.get('300')).toBeInstanceOf(PoisonRecordError);
    const published = eventBridge.commandCalls(PutEventsCommand).flatMap((c) => c.args[0].input.Entries!.map((e) => JSON.parse(e.Detail!).id));
    expect(published.filter((id) => id === good!.id)).toHaveLength(1);
  });
});
