import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CloudWatchLogsClient,
  CreateLogStreamCommand,
  GetLogEventsCommand,
  PutLogEventsCommand,
  ResourceAlreadyExistsException,
  ResourceNotFoundException,
  InvalidParameterException as CloudWatchInvalidParameter,
} from '@aws-sdk/client-cloudwatch-logs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CloudWatchJobLogStore } from '../../functions/adapters/cloudwatch-logs/job-log-store.ts';
import { FileJobLogStore, InvalidParameterException } from '../../functions/adapters/file/job-log-store.ts';
import { InvalidCursorError } from '../../functions/core/errors.ts';
import { LOG_LIMITS, MAX_MESSAGE_BYTES, type JobAttemptRef, type LogEvent } from '../../functions/core/job-logs.ts';
import { JOB_LOGS } from '../../functions/declarations/job-logs.ts';

const NOW = Date.UTC(2030, 0, 1);
const REF: JobAttemptRef = { jobId: 'job_0123456789abcdef0123456789abcdef', run: 1, attempt: 2 };
const events = (...messages: string[]): LogEvent[] => messages.map((message, i) => ({ timestamp: NOW + i, message }));
const messagesOf = (page: { events: LogEvent[] }) => page.events.map((e) => e.message);

describe('FileJobLogStore (the local stand-in for the job log group)', () => {
  let dir: string;
  let store: FileJobLogStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ff-job-logs-'));
    store = new FileJobLogStore(join(dir, 'job-logs'), () => NOW);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads back what was appended, in order, paged by limit, with the token of where it stopped', async () => {
    await store.append(REF, events('a\n', 'b\n'));
    await store.append(REF, events('c\n'));
    const first = await store.read(REF, undefined, 2);
    expect(messagesOf(first)).toEqual(['a\n', 'b\n']);
    expect(first.atEnd).toBe(false);
    const second = await store.read(REF, first.nextToken, 2);
    expect(messagesOf(second)).toEqual(['c\n']);
    expect(second.atEnd).toBe(true);
    // At the end: nothing, and the same token again (as GetLogEvents answers).
    expect(await store.read(REF, second.nextToken, 2)).toEqual({ events: [], nextToken: second.nextToken, atEnd: true });
    await store.append(REF, events('d\n'));
    expect(messagesOf(await store.read(REF, second.nextToken, 2))).toEqual(['d\n']);
  });

  it('keeps attempts and runs apart, and answers a stream that does not exist as empty', async () => {
    await store.append(REF, events('attempt 2'));
    await store.append({ ...REF, attempt: 1 }, events('attempt 1'));
    await store.append({ ...REF, run: 2, attempt: 2 }, events('run 2'));
    expect(messagesOf(await store.read(REF, undefined, 10))).toEqual(['attempt 2']);
    expect(messagesOf(await store.read({ ...REF, run: 2 }, undefined, 10))).toEqual(['run 2']);
    expect(await store.read({ ...REF, attempt: 3 }, undefined, 10)).toEqual({ events: [], nextToken: undefined, atEnd: true });
  });

  it('refuses what PutLogEvents refuses, as a whole, with its error name', async () => {
    const refused = [
      [],
      events(''),
      [{ timestamp: NOW, message: 'x'.repeat(MAX_MESSAGE_BYTES + 1) }],
      [{ timestamp: NOW + 1, message: 'later' }, { timestamp: NOW, message: 'earlier' }],
      Array.from({ length: LOG_LIMITS.maxBatchEvents + 1 }, () => ({ timestamp: NOW, message: 'x' })),
      Array.from({ length: 5 }, () => ({ timestamp: NOW, message: 'x'.repeat(MAX_MESSAGE_BYTES) })),
    ];
    for (const batch of refused) {
      const error = await store.append(REF, batch).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidParameterException);
      expect(error).toMatchObject({ name: 'InvalidParameterException', $fault: 'client' });
    }
    expect(await store.read(REF, undefined, 10)).toMatchObject({ events: [] });
    // Exactly at the limits is fine.
    await store.append(REF, Array.from({ length: 4 }, (_, i) => ({ timestamp: NOW + i, message: 'y'.repeat(MAX_MESSAGE_BYTES - 10) })));
  });

  it('refuses events too old or too far ahead one by one, like rejectedLogEventsInfo, and stores the rest', async () => {
    const tooNew = { timestamp: NOW + LOG_LIMITS.maxFutureMs + 1, message: 'too new' };
    expect(await store.append(REF, [{ timestamp: NOW, message: 'fine' }, tooNew])).toEqual({ rejectedEvents: 1 });
    const later = new FileJobLogStore(join(dir, 'job-logs'), () => NOW + LOG_LIMITS.maxPastMs + 1);
    expect(await later.append(REF, [{ timestamp: NOW, message: 'too old by now' }])).toEqual({ rejectedEvents: 1 });
    expect(messagesOf(await store.read(REF, undefined, 10))).toEqual(['fine']);
  });

  it('refuses a token that is not a boundary between events of the stream', async () => {
    await store.append(REF, events('hello\n', 'world\n'));
    const { nextToken } = await store.read(REF, undefined, 1);
    for (const token of ['abc', '-1', String(Number(nextToken) - 1), '999999']) {
      await expect(store.read(REF, token, 10), token).rejects.toThrow(InvalidCursorError);
    }
    await expect(store.read({ ...REF, attempt: 9 }, nextToken, 10)).rejects.toThrow(InvalidCursorError);
  });

  it('leaves a line still being written for the next read', async () => {
    await store.append(REF, events('whole'));
    const file = join(dir, 'job-logs', REF.jobId, '1', '2.ndjson');
    appendFileSync(file, '{"t":1,"m":"ha');
    const page = await store.read(REF, undefined, 10);
    expect(messagesOf(page)).toEqual(['whole']);
    expect(page.atEnd).toBe(true);
    appendFileSync(file, 'lf"}\n');
    expect(messagesOf(await store.read(REF, page.nextToken, 10))).toEqual(['half']);
  });

  it('pages by about 1 MB, as GetLogEvents does', async () => {
    const big = 'z'.repeat(MAX_MESSAGE_BYTES);
    for (let i = 0; i < 6; i++) await store.append(REF, [{ timestamp: NOW + i, message: big }]);
    const page = await store.read(REF, undefined, 10_000);
    expect(page.events.length).toBe(4);
    expect(page.atEnd).toBe(false);
    expect((await store.read(REF, page.nextToken, 10_000)).events.length).toBe(2);
  });

  it('keeps the files private to the runtime user (0600 in 0700 directories)', async () => {
    await store.append(REF, events('secret'));
    const file = join(dir, 'job-logs', REF.jobId, '1', '2.ndjson');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'job-logs', REF.jobId)).mode & 0o777).toBe(0o700);
    expect(readFileSync(file, 'utf8')).toBe(`${JSON.stringify({ t: NOW, m: 'secret' })}\n`);
  });

  it('refuses an id that could climb out of the store', async () => {
    await expect(store.append({ ...REF, jobId: '../escape' }, events('x'))).rejects.toThrow(InvalidParameterException);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('prunes attempts last written before the retention period, and only those', async () => {
    await store.append(REF, events('old'));
    await store.append({ ...REF, jobId: 'job_fresh' }, events('fresh'));
    const oldFile = join(dir, 'job-logs', REF.jobId, '1', '2.ndjson');
    const longAgo = new Date(Date.now() - (JOB_LOGS.retentionDays + 1) * 24 * 3600 * 1000);
    utimesSync(oldFile, longAgo, longAgo);
    // Files carry the real clock's times: so does the pruning store.
    expect(await new FileJobLogStore(join(dir, 'job-logs')).pruneExpired()).toBe(1);
    expect(readdirSync(join(dir, 'job-logs'))).toEqual(['job_fresh']);
  });

  it('skips a line that is not an event rather than lose the rest of the attempt', async () => {
    const file = join(dir, 'job-logs', REF.jobId, '1', '2.ndjson');
    await store.append(REF, events('before'));
    appendFileSync(file, 'not json\n');
    await store.append(REF, events('after'));
    expect(messagesOf(await store.read(REF, undefined, 10))).toEqual(['before', 'after']);
  });
});

describe('CloudWatchJobLogStore', () => {
  const logs = mockClient(CloudWatchLogsClient);
  // Test files share a process (the unit project does not isolate them): the stub must not outlive this file.
  afterAll(() => logs.restore());
  const group = 'ForgeflowStateful-JobLogsGroup-abc';
  const stream = `${REF.jobId}/1/2`;
  let store: CloudWatchJobLogStore;
  beforeEach(() => {
    logs.reset();
    store = new CloudWatchJobLogStore(new CloudWatchLogsClient({ region: 'us-east-1' }), group);
  });

  it('creates the attempt stream on the first append only, then puts the batch as given', async () => {
    logs.on(CreateLogStreamCommand).resolves({});
    logs.on(PutLogEventsCommand).resolves({});
    await store.append(REF, events('a', 'b'));
    await store.append(REF, events('c'));
    expect(logs.commandCalls(CreateLogStreamCommand).map((c) => c.args[0].input)).toEqual([{ logGroupName: group, logStreamName: stream }]);
    expect(logs.commandCalls(PutLogEventsCommand).map((c) => c.args[0].input)).toEqual([
      { logGroupName: group, logStreamName: stream, logEvents: events('a', 'b') },
      { logGroupName: group, logStreamName: stream, logEvents: events('c') },
    ]);
  });

  it('takes a stream that already exists (a redelivered attempt) as its own', async () => {
    logs.on(CreateLogStreamCommand).rejects(new ResourceAlreadyExistsException({ message: 'exists', $metadata: {} }));
    logs.on(PutLogEventsCommand).resolves({});
    await expect(store.append(REF, events('a'))).resolves.toEqual({ rejectedEvents: 0 });
  });

  it('creates the stream again, once, when it went away', async () => {
    logs.on(CreateLogStreamCommand).resolves({});
    logs.on(PutLogEventsCommand).rejectsOnce(new ResourceNotFoundException({ message: 'gone', $metadata: {} })).resolves({});
    await store.append(REF, events('a'));
    expect(logs.commandCalls(CreateLogStreamCommand)).toHaveLength(2);
    expect(logs.commandCalls(PutLogEventsCommand)).toHaveLength(2);
  });

  it('counts the events refused one by one', async () => {
    logs.on(CreateLogStreamCommand).resolves({});
    logs.on(PutLogEventsCommand).resolves({ rejectedLogEventsInfo: { tooOldLogEventEndIndex: 1, tooNewLogEventStartIndex: 4 } });
    expect(await store.append(REF, events('1', '2', '3', '4', '5'))).toEqual({ rejectedEvents: 3 });
  });

  it('passes other failures on for the shipper to retry or drop', async () => {
    logs.on(CreateLogStreamCommand).resolves({});
    logs.on(PutLogEventsCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await expect(store.append(REF, events('a'))).rejects.toMatchObject({ name: 'ThrottlingException' });
  });

  it('reads forward from the head with the forward token as the cursor; the end is the same token again', async () => {
    logs
      .on(GetLogEventsCommand, { logGroupName: group, logStreamName: stream, startFromHead: true, limit: 50 })
      .resolves({ events: [{ timestamp: NOW, message: 'a', ingestionTime: NOW }], nextForwardToken: 'f/1' });
    logs.on(GetLogEventsCommand, { nextToken: 'f/1' }).resolves({ events: [], nextForwardToken: 'f/1' });
    const first = await store.read(REF, undefined, 50);
    expect(first).toEqual({ events: [{ timestamp: NOW, message: 'a' }], nextToken: 'f/1', atEnd: false });
    expect(await store.read(REF, 'f/1', 50)).toEqual({ events: [], nextToken: 'f/1', atEnd: true });
    expect(logs.commandCalls(GetLogEventsCommand)[0]!.args[0].input).toEqual({ logGroupName: group, logStreamName: stream, startFromHead: true, limit: 50 });
  });

  it('does not take an empty page with a new token for the end', async () => {
    logs.on(GetLogEventsCommand).resolves({ events: [], nextForwardToken: 'f/2' });
    expect(await store.read(REF, 'f/1', 50)).toEqual({ events: [], nextToken: 'f/2', atEnd: false });
  });

  it('answers a stream that does not exist yet as empty, and a token it refuses as an invalid cursor', async () => {
    logs.on(GetLogEventsCommand).rejects(new ResourceNotFoundException({ message: 'The specified log stream does not exist.', $metadata: {} }));
    expect(await store.read(REF, undefined, 50)).toEqual({ events: [], nextToken: undefined, atEnd: true });
    logs.reset();
    logs.on(GetLogEventsCommand).rejects(new CloudWatchInvalidParameter({ message: 'The specified nextToken is invalid.', $metadata: {} }));
    await expect(store.read(REF, 'f/forged', 50)).rejects.toThrow(InvalidCursorError);
  });
});
