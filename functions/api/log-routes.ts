import * as z from 'zod';
import { decodeLogCursor, encodeLogCursor, readJobLog, startOfAttempt, type JobLogRead, type LogPosition } from '../core/job-log-reading.ts';
import type { JobLogReader } from '../core/job-logs.ts';
import type { Actor, JobService } from '../core/job-service.ts';
import type { JobRecord } from '../core/job.ts';
import { JOB_LOGS } from '../declarations/job-logs.ts';
import { header, httpError, json, type HttpResult } from './http.ts';
import type { RouteDoc } from './route-doc.ts';
import type { Route } from './router.ts';
import { JobIdParamsSchema, jobIdParam, query } from './routes.ts';

const LogsQuerySchema = z.strictObject({
  attempt: z.coerce.number().int().min(1).optional().meta({ description: "The attempt of the job's current run to start from (default: the current one); later attempts follow" }),
  cursor: z.string().min(1).max(4096).optional().meta({ description: 'A previous `nextCursor` (or event id), to read on from there (400 INVALID_CURSOR)' }),
  follow: z.enum(['true', 'false']).default('false').meta({ description: '`true`: answer `text/event-stream` (long-polled server-sent events) instead of JSON' }),
});

export const LogChunkSchema = z
  .object({
    attempt: z.number().int().positive(),
    seq: z.number().int().nonnegative().meta({ description: "The chunk's place in its attempt, from 0" }),
    timestamp: z.iso.datetime().meta({ description: 'When the agent received its first byte' }),
    text: z.string().meta({ description: 'Output: stdout and stderr interleaved as they arrived' }),
  })
  .meta({ id: 'JobLogChunk' });

export const JobLogsSchema = z
  .object({
    jobId: z.string(),
    status: z.string(),
    attempt: z.number().int().nonnegative().meta({ description: "The job's current attempt (0 before the first starts)" }),
    complete: z.boolean().meta({ description: 'The job is over and every chunk has been returned' }),
    events: z.array(LogChunkSchema),
    nextCursor: z.string().nullable().meta({ description: 'Pass as `cursor` to read on; null once `complete`' }),
  })
  .meta({ id: 'JobLogs' });

const FOLLOW_DESCRIPTION =
  'With `follow=true` the answer is `text/event-stream`: each chunk is `id: <cursor>`, `event: log`, `data: <JobLogChunk>`, ' +
  'and once the job is over and every chunk was sent, `event: end` with `data: {"status","exitCode"}`. API Gateway does not ' +
  `stream, so a response ends after new output, or after ${JOB_LOGS.followWaitSeconds} s without any: reconnect with ` +
  'the header `Last-Event-ID` (an EventSource does so by itself) to go on.';

const ROUTE_DOC: RouteDoc = {
  operationId: 'getJobLogs',
  summary: "The job's output, from a cursor, or followed while it runs",
  description: `Output is kept ${JOB_LOGS.retentionDays} days, in chunks per attempt of the current run. ${FOLLOW_DESCRIPTION}`,
  tag: 'Jobs',
  params: JobIdParamsSchema,
  query: LogsQuerySchema,
  headers: z.object({ 'last-event-id': z.string().optional().meta({ description: 'With `follow=true`: the id of the last event received' }) }),
  responses: {
    200: {
      description: `The output read (JSON). ${FOLLOW_DESCRIPTION}`,
      body: JobLogsSchema,
      also: { 'text/event-stream': { body: z.string().meta({ description: 'With `follow=true`: server-sent events, `log` for each chunk and `end` once the job is over' }) } },
    },
  },
  errors: ['JOB_NOT_FOUND', 'INVALID_CURSOR', 'VALIDATION_ERROR'],
};

/** Chunks per response, as JSON: whatever the output, far under Lambda's 6 MB response limit. */
const RESPONSE_BUDGET_BYTES = 1_048_576;
/** What a follower's EventSource waits before it reconnects: the waiting happens here, so only briefly. */
const RECONNECT_MS = 500;

export interface LogRouteDeps {
  service: JobService;
  logs: JobLogReader;
  /** How long a follow request waits for new output before it ends (default JOB_LOGS.followWaitSeconds). */
  followWaitMs?: number;
  /** Waits between reads while following: the first, and the longest (the wait doubles while nothing comes). */
  pollMs?: { first: number; max: number };
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * `GET /v1/jobs/{id}/logs`: a job's output from its log store, read from a cursor (JSON), or followed
 * (`?follow=true`, server-sent events). The job is read first, through the tenant check every job route makes:
 * another tenant's job answers 404 like a missing one.
 *
 * API Gateway HTTP APIs do not stream a response, so a follow is a long poll: the handler reads until there is new
 * output, the job ends, or `followWaitMs` passes, and answers with what it has. Each chunk's `id` is the cursor after
 * it; the client reconnects with `Last-Event-ID` and goes on. `event: end` comes once the job is over and every
 * chunk was sent.
 */
export function logRoutes(deps: LogRouteDeps): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/jobs/{id}/logs',
      doc: ROUTE_DOC,
      async handle({ event, params, actor }) {
        const q = LogsQuerySchema.parse(query(event));
        const job = await deps.service.get(actor, jobIdParam(params));
        const follow = q.follow === 'true';
        // An EventSource resumes with the header; a client may also pass the cursor of a JSON read.
        const cursor = (follow ? header(event, 'last-event-id') : undefined) ?? q.cursor;
        const from = cursor ? decodeLogCursor(cursor) : startOfAttempt(job, startAttempt(job, q.attempt));
        const now = deps.now ?? Date.now;
        if (follow) return followLog(deps, actor, job, from);
        const read = await readJobLog(deps.logs, job, from, RESPONSE_BUDGET_BYTES, now());
        const body: z.input<typeof JobLogsSchema> = {
          jobId: job.jobId,
          status: job.status,
          attempt: job.attempts,
          complete: read.complete,
          events: read.chunks.map(({ chunk }) => chunk),
          nextCursor: read.complete ? null : encodeLogCursor(read.next),
        };
        return json(200, body);
      },
    },
  ];
}

function startAttempt(job: JobRecord, attempt: number | undefined): number | undefined {
  if (attempt === undefined || attempt <= Math.max(1, job.attempts)) return attempt;
  throw httpError('VALIDATION_ERROR', `Attempt ${attempt} has not started: the job is at attempt ${job.attempts}`, {
    issues: [{ path: 'attempt', message: `at most ${Math.max(1, job.attempts)}`, code: 'too_big' }],
  });
}

/** The long poll: returns as soon as there is something to send, and at the latest after the wait. */
async function followLog(deps: LogRouteDeps, actor: Actor, first: JobRecord, from: LogPosition): Promise<HttpResult> {
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const { first: firstPoll, max: maxPoll } = deps.pollMs ?? { first: 250, max: 2000 };
  const deadline = now() + (deps.followWaitMs ?? JOB_LOGS.followWaitSeconds * 1000);
  const frames = [`retry: ${RECONNECT_MS}\n\n`];
  let job = first;
  let position = from;
  for (let wait = firstPoll; ; wait = Math.min(wait * 2, maxPoll)) {
    const read: JobLogRead = await readJobLog(deps.logs, job, position, RESPONSE_BUDGET_BYTES, now());
    for (const { chunk, cursor } of read.chunks) frames.push(`id: ${cursor}\nevent: log\ndata: ${JSON.stringify(chunk)}\n\n`);
    position = read.next;
    if (read.complete) frames.push(`event: end\ndata: ${JSON.stringify({ status: job.status, exitCode: job.result?.exitCode ?? null })}\n\n`);
    if (read.complete || read.chunks.length > 0 || now() + wait > deadline) return eventStream(frames);
    await sleep(wait);
    // Read again each time: its status says when it ends, its attempts when a retry starts a new stream.
    job = await deps.service.get(actor, job.jobId);
  }
}

function eventStream(frames: string[]): HttpResult {
  return { statusCode: 200, headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store' }, body: frames.join('') };
}
