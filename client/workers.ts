import { allItems } from './pages.ts';
import type { Transport } from './transport.ts';
import type { Page, Worker, WorkerFilter } from './types.ts';

interface CallOptions {
  signal?: AbortSignal;
}

const workerPath = (workerId: string, rest = '') => `/v1/workers/${encodeURIComponent(workerId)}${rest}`;

/** The fleet, as platform admins and operators see it (anyone else gets 403 FORBIDDEN). */
export class WorkersApi {
  constructor(private readonly transport: Transport) {}

  /** One page of workers, newest first. */
  async list(filter: WorkerFilter = {}, options: CallOptions = {}): Promise<Page<Worker>> {
    return (await this.transport.json<Page<Worker>>('GET', '/v1/workers', { query: { ...filter }, signal: options.signal })).body;
  }

  /** Every worker matching `filter`, page after page. */
  all(filter: Omit<WorkerFilter, 'cursor'> = {}, options: CallOptions = {}): AsyncGenerator<Worker, void, undefined> {
    return allItems((cursor) => this.list({ ...filter, ...(cursor ? { cursor } : {}) }, options));
  }

  async get(workerId: string, options: CallOptions = {}): Promise<Worker> {
    return (await this.transport.json<Worker>('GET', workerPath(workerId), { signal: options.signal })).body;
  }

  /** Collects the worker's EC2, CloudWatch and agent metrics now and returns the worker with them. */
  async refresh(workerId: string, options: CallOptions = {}): Promise<Worker> {
    return (await this.transport.json<Worker>('POST', workerPath(workerId, '/refresh'), { signal: options.signal })).body;
  }
}
