import { marshall } from '@aws-sdk/util-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoOutboxAppender } from '../../functions/adapters/dynamodb/outbox-appender.ts';
import { JOB_EVENT_ATTRIBUTE, JOB_EVENT_STREAM_FILTER, OUTBOX_EVENT_STREAM_FILTER, outboxRow } from '../../functions/adapters/dynamodb/outbox-item.ts';
import type { EventEnvelope } from '../../functions/core/events.ts';
import type { EventPublisher } from '../../functions/core/ports.ts';
import { carriedEvent, forwardBatch, isJobRecord } from '../../functions/relay/forward.ts';
import { isRelayable, PoisonRecordError } from '../../functions/relay/relay.ts';
import { compilePattern } from '../../local/event-pattern.ts';
import { sampleEvent, sampleJob, streamRecord } from '../support/events.ts';

const dynamo = mockClient(DynamoDBDocumentClient);
afterAll(() => dynamo.restore());
const noSleep = async () => {};

/** A jobs-table stream record: the job's write, carrying `carried` (an envelope's JSON) and having had `before`. */
function jobWrite(sequenceNumber: string, carried?: string, before?: string): DynamoDBRecord {
  const image = (relay?: string) => marshall({ jobId: 'job_1', status: 'RUNNING', ...(relay === undefined ? {} : { [JOB_EVENT_ATTRIBUTE]: relay }) });
  return {
    eventID: `e-${sequenceNumber}`,
    eventName: 'MODIFY',
    eventSource: 'aws:dynamodb',
    dynamodb: { SequenceNumber: sequenceNumber, Keys: marshall({ jobId: 'job_1' }) as never, NewImage: image(carried) as never, OldImage: image(before) as never, StreamViewType: 'NEW_AND_OLD_IMAGES' },
  };
}

const events = (n: number): EventEnvelope[] => Array.from({ length: n }, (_, i) => sampleEvent(sampleJob(`job_${String(i).padStart(32, '0')}`)));

describe('Function: carriedEvent', () => {
  const [event, later] = events(2);
  const json = (e: EventEnvelope) => JSON.stringify(e);

  it('reads the event a job write brought, and nothing from a write that kept an earlier one or carries none', () => {
    expect(carriedEvent(jobWrite('1', json(event!)))).toEqual(event);
    expect(carriedEvent(jobWrite('2', json(later!), json(event!)))).toEqual(later);
    expect(carriedEvent(jobWrite('3', json(event!), json(event!)))).toBeUndefined();
    expect(carriedEvent(jobWrite('4'))).toBeUndefined();
  });

  it('calls a carried value that is no event poison', () => {
    expect(() => carriedEvent(jobWrite('5', '{"not":"an event"}'))).toThrow(PoisonRecordError);
    expect(() => carriedEvent(jobWrite('6', 'not json'))).toThrow(PoisonRecordError);
  });

  it('tells job records from outbox records by their keys', () => {
    expect(isJobRecord(jobWrite('7', json(event!)))).toBe(true);
    expect(isJobRecord(streamRecord(event!, '8'))).toBe(false);
  });

  it('matches the stream filter the event source mapping and the local poller use only to writes that carry an event', () => {
    const matches = compilePattern(JOB_EVENT_STREAM_FILTER);
    expect(matches(jobWrite('9', json(event!)))).toBe(true);
    expect(matches(jobWrite('10'))).toBe(false);
  });
});

describe('Function: forwardBatch, with DynamoOutboxAppender', () => {
  beforeEach(() => dynamo.reset());
  const appender = (maxAttempts = 3) => new DynamoOutboxAppender(DynamoDBDocumentClient.from(new DynamoDBClient({})), { tableName: 'events', sleep: noSleep, maxAttempts });
  const putIds = (call: number) => dynamo.commandCalls(BatchWriteCommand)[call]!.args[0].input.RequestItems!.events!.map((r) => r.PutRequest!.Item!.eventId);
  /** A bus that takes every event but `refuse`'s, noting what it took and when, against the outbox writes made by then. */
  function bus(refuse: string[] = []) {
    const published: { id: string; writesBefore: number }[] = [];
    const publisher: EventPublisher = {
      publish: async (events) => {
        for (const e of events) if (!refuse.includes(e.id)) published.push({ id: e.id, writesBefore: dynamo.commandCalls(BatchWriteCommand).length });
        return { failed: events.filter((e) => refuse.includes(e.id)).map((e) => ({ eventId: e.id, errorCode: 'InternalFailure', errorMessage: '' })) };
      },
    };
    return { publisher, published };
  }

  it('appends the carried events as relayed outbox rows, 25 to a call, each once, and then publishes them', async () => {
    dynamo.on(BatchWriteCommand).resolves({});
    const all = events(30);
    const records = [...all.map((e, i) => jobWrite(String(100 + i), JSON.stringify(e))), jobWrite('200', JSON.stringify(all[0]!))];
    const { publisher, published } = bus();

    const errors = await forwardBatch(records, { outbox: appender(), publisher });

    expect(errors.size).toBe(0);
    expect(dynamo.commandCalls(BatchWriteCommand)).toHaveLength(2);
    expect([...putIds(0), ...putIds(1)]).toEqual(all.map((e) => e.id));
    expect(dynamo.commandCalls(BatchWriteCommand)[0]!.args[0].input.RequestItems!.events![0]!.PutRequest!.Item).toEqual(outboxRow(all[0]!, true));
    expect(published.map((p) => p.id)).toEqual([...all.map((e) => e.id), all[0]!.id]);
    expect(published.every((p) => p.writesBefore === 2)).toBe(true);
  });

  it('publishes no event whose row DynamoDB never took, and fails its record, the poison one and the refused one', async () => {
    const [kept, dropped, refused, poisonSource] = events(4);
    dynamo.on(BatchWriteCommand).callsFake((input: { RequestItems: Record<string, { PutRequest: { Item: { eventId: string } } }[]> }) => ({
      UnprocessedItems: { events: input.RequestItems.events!.filter((r) => r.PutRequest.Item.eventId === dropped!.id) },
    }));
    const records = [jobWrite('1', JSON.stringify(kept)), jobWrite('2', JSON.stringify(dropped)), jobWrite('3', JSON.stringify(refused)), jobWrite('4', JSON.stringify({ ...poisonSource, type: 42 }))];
    const { publisher, published } = bus([refused!.id]);

    const errors = await forwardBatch(records, { outbox: appender(3), publisher });

    expect([...errors.keys()].sort()).toEqual(['2', '3', '4']);
    expect(errors.get('4')).toBeInstanceOf(PoisonRecordError);
    expect(dynamo.commandCalls(BatchWriteCommand).map((_, i) => putIds(i))).toEqual([[kept!.id, dropped!.id, refused!.id], [dropped!.id], [dropped!.id]]);
    expect(published.map((p) => p.id)).toEqual([kept!.id]);
  });

  it('fails every record of a call that throws, after its attempts, and publishes none of them', async () => {
    dynamo.on(BatchWriteCommand).rejects(Object.assign(new Error('slow down'), { name: 'ProvisionedThroughputExceededException' }));
    const { publisher, published } = bus();
    const errors = await forwardBatch([jobWrite('1', JSON.stringify(events(1)[0]))], { outbox: appender(2), publisher });
    expect(errors.get('1')?.message).toContain('ProvisionedThroughputExceededException');
    expect(dynamo.commandCalls(BatchWriteCommand)).toHaveLength(2);
    expect(published).toEqual([]);
  });
});

describe('Function: isRelayable', () => {
  it('leaves the rows the relay appended itself from the jobs stream, whose events it already published', () => {
    const [event] = events(1);
    const record = streamRecord(event!, '1');
    expect(isRelayable(record)).toBe(true);
    const relayed = { ...record, dynamodb: { ...record.dynamodb, NewImage: marshall(outboxRow(event!, true)) as never } };
    expect(isRelayable(relayed)).toBe(false);
  });

  it('agrees with the outbox stream filter, which keeps the relay from being invoked for the records it skips', () => {
    const [event] = events(1);
    const row = streamRecord(event!, '1');
    const records = {
      'a new row': row,
      'a row the relay appended': { ...row, dynamodb: { ...row.dynamodb, NewImage: marshall(outboxRow(event!, true)) as never } },
      'a TTL deletion': { ...row, eventName: 'REMOVE' as const, dynamodb: { ...row.dynamodb, NewImage: undefined, OldImage: row.dynamodb!.NewImage } },
      'an update': { ...row, eventName: 'MODIFY' as const },
    };
    const matches = compilePattern(OUTBOX_EVENT_STREAM_FILTER);

    for (const [what, record] of Object.entries(records)) expect(matches(record), what).toBe(isRelayable(record));
    expect(Object.values(records).map((record) => matches(record))).toEqual([true, false, false, false]);
  });
});
