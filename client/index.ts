/**
 * A typed client for the Forgeflow API: thin methods over the routes, typed from the server's own declarations.
 *
 *   const forgeflow = new ForgeflowClient({ baseUrl: 'http://127.0.0.1:3000', token });
 *   const job = await forgeflow.submit({ command: ['make', 'test'] });
 *   for await (const chunk of forgeflow.followLogs(job.jobId)) process.stdout.write(chunk.text);
 *   const done = await forgeflow.waitFor(job.jobId);
 */
import { randomUUID } from 'node:crypto';
import { allItems } from './pages.ts';
import { sleep } from './retry.ts';
import { followLogs, type FollowOptions } from './sse.ts';
import { Transport, type TransportOptions } from './transport.ts';
import { isTerminalStatus } from './types.ts';
import type { EventEnvelope, Job, JobBatchEntryInput, JobBatchEntryResult, JobFilter, JobSpecInput, JobSummary, LogChunk, LogEnd, LogPage, LogQuery, Page, PageQuery, StatsResponse, StatsScope } from './types.ts';
import { WorkersApi } from './workers.ts';

export * from './errors.ts';
export { collect } from './pages.ts';
export * from './types.ts';
export { DEFAULT_RETRY, isRetryable, type RetryOptions } from './retry.ts';
export type { FollowOptions } from './sse.ts';
export type { TransportOptions as ClientOptions } from './transport.ts';

export interface CallOptions {
  signal?: AbortSignal;
}

export interface SubmitOptions extends CallOptions {
  /** Makes a repeated submit return the first job instead of creating another; a random UUID when omitted. */
  idempotencyKey?: string;
}

export interface WaitOptions extends CallOptions {
  /** The first wait between two reads of the job (default 250 ms); it doubles up to `maxPollIntervalMs`. */
  pollIntervalMs?: number;
  /** Default 2 s. */
  maxPollIntervalMs?: number;
  /** Called with every read of the job, the last (terminal) one included. */
  onUpdate?: (job: Job) => void;
}

const jobPath = (jobId: string, rest = '') => `/v1/jobs/${encodeURIComponent(jobId)}${rest}`;

export class ForgeflowClient {
  private readonly transport: Transport;
  readonly workers: WorkersApi;

  constructor(private readonly options: TransportOptions) {
    this.transport = new Transport(options);
    this.workers = new WorkersApi(this.transport);
  }

  /** Submits a job. The key is sent with every retry of this call, so a lost answer never creates a second job. */
  async submit(spec: JobSpecInput, options: SubmitOptions = {}): Promise<Job> {
    const key = options.idempotencyKey ?? randomUUID();
    const response = await this.transport.json<Job>('POST', '/v1/jobs', { body: spec, headers: { 'idempotency-key': key }, signal: options.signal });
    return response.body;
  }

  /**
   * Submits up to 25 jobs in one request, committed together. A job given without a key gets a random UUID, sent
   * again with every retry of this call, so a lost answer never creates a second job. Each job's outcome (`created`,
   * `replayed`, or `failed` with its error) comes back in the order sent; a batch that does not validate throws.
   */
  async submitBatch(jobs: readonly JobBatchEntryInput[], options: CallOptions = {}): Promise<JobBatchEntryResult[]> {
    const body = { jobs: jobs.map((entry) => ({ ...entry, idempotencyKey: entry.idempotencyKey ?? randomUUID() })) };
    return (await this.transport.json<{ results: JobBatchEntryResult[] }>('POST', '/v1/jobs/batch', { body, signal: options.signal })).body.results;
  }

  async get(jobId: string, options: CallOptions = {}): Promise<Job> {
    return (await this.transport.json<Job>('GET', jobPath(jobId), { signal: options.signal })).body;
  }

  /** One page of the tenant's jobs, newest first; pass `nextCursor` back as `cursor` for the next. */
  async list(filter: JobFilter = {}, options: CallOptions = {}): Promise<Page<JobSummary>> {
    return (await this.transport.json<Page<JobSummary>>('GET', '/v1/jobs', { query: { ...filter }, signal: options.signal })).body;
  }

  /** Every job matching `filter`, page after page: `for await (const job of client.jobs({ status: 'FAILED' }))`. */
  jobs(filter: Omit<JobFilter, 'cursor'> = {}, options: CallOptions = {}): AsyncGenerator<JobSummary, void, undefined> {
    return allItems((cursor) => this.list({ ...filter, ...(cursor ? { cursor } : {}) }, options));
  }

  /** A waiting job ends CANCELLED at once; a running one is marked `cancelRequested` and stopped by its worker. */
  async cancel(jobId: string, options: CallOptions = {}): Promise<Job> {
    return (await this.transport.json<Job>('DELETE', jobPath(jobId), { signal: options.signal })).body;
  }

  /** Queues a FAILED or DEAD_LETTERED job again as a new run. */
  async retry(jobId: string, options: CallOptions = {}): Promise<Job> {
    return (await this.transport.json<Job>('POST', jobPath(jobId, '/retry'), { signal: options.signal })).body;
  }

  /** One page of the job's history, oldest first. */
  async eventsPage(jobId: string, query: PageQuery = {}, options: CallOptions = {}): Promise<Page<EventEnvelope>> {
    return (await this.transport.json<Page<EventEnvelope>>('GET', jobPath(jobId, '/events'), { query: { ...query }, signal: options.signal })).body;
  }

  /** The job's whole history, page after page. */
  events(jobId: string, query: Omit<PageQuery, 'cursor'> = {}, options: CallOptions = {}): AsyncGenerator<EventEnvelope, void, undefined> {
    return allItems((cursor) => this.eventsPage(jobId, { ...query, ...(cursor ? { cursor } : {}) }, options));
  }

  /** One page of an attempt's output; read on with `nextCursor` until `complete`. */
  async logs(jobId: string, query: LogQuery = {}, options: CallOptions = {}): Promise<LogPage> {
    return (await this.transport.json<LogPage>('GET', jobPath(jobId, '/logs'), { query: { ...query }, signal: options.signal })).body;
  }

  /** The job's output as it is written, until the job ends (the generator returns the `end` event). */
  followLogs(jobId: string, options: FollowOptions = {}): AsyncGenerator<LogChunk, LogEnd> {
    return followLogs(this.transport, jobId, { ...options, ...(this.options.retry ? { retry: this.options.retry } : {}) });
  }

  /** Queued and running jobs per priority and totals per terminal status; `global` is for platform admins. */
  async stats(scope: StatsScope = 'tenant', options: CallOptions = {}): Promise<StatsResponse> {
    return (await this.transport.json<StatsResponse>('GET', '/v1/queues/stats', { query: { scope }, signal: options.signal })).body;
  }

  /** Reads the job until it is terminal and returns it; bound the wait with `signal: AbortSignal.timeout(ms)`. */
  async waitFor(jobId: string, options: WaitOptions = {}): Promise<Job> {
    let interval = options.pollIntervalMs ?? 250;
    for (;;) {
      const job = await this.get(jobId, options);
      options.onUpdate?.(job);
      if (isTerminalStatus(job.status)) return job;
      await sleep(interval, options.signal);
      interval = Math.min(interval * 2, options.maxPollIntervalMs ?? 2000);
    }
  }
}
