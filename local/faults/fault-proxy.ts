import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { wireOperation } from '../wire-operations.ts';

/**
 * How the proxy fails a call, in the proportions AWS's own failures come in:
 * - throttled: refused before it reaches the service (400 ThrottlingException), so nothing was applied;
 * - unavailable: refused before it reaches the service with a 500;
 * - lostAnswer: forwarded and applied, then answered with a 500, as when a response is lost or a request times out
 *   after the service acted on it. The caller retries a write that already happened: what idempotency is for.
 */
export type FaultKind = 'throttled' | 'unavailable' | 'lostAnswer';
export const FAULT_KINDS: readonly FaultKind[] = ['throttled', 'unavailable', 'lostAnswer'];

export interface FaultOptions {
  /** The fraction of calls that fail, 0 to 1, spread evenly over the kinds. */
  rate: number;
  /** Seeds the draw, so a failing run can be repeated. */
  seed?: number;
}

export type ProxyCounts = { calls: number } & Record<FaultKind, number>;

/** Calls per operation (the X-Amz-Target's action), and the items written or read by batch and transaction calls. */
export interface OperationCounts {
  calls: number;
  items: number;
}

export interface FaultProxy {
  endpoint: string;
  /** Calls seen and faults injected, by kind. */
  readonly counts: ProxyCounts;
  /** Calls seen per operation: with rate 0, the proxy is how the bench counts calls per job on the wire. */
  readonly operations: Map<string, OperationCounts>;
  /** DynamoDB calls per operation and table (`GetItem forgeflow-jobs`; a transaction names each table it writes). */
  readonly tableOperations: Map<string, number>;
  close(): Promise<void>;
}

/**
 * A loopback HTTP proxy in front of one local AWS endpoint (DynamoDB Local, the local SQS, the Step Functions and
 * EventBridge endpoint) that fails a fraction of the JSON-protocol calls (those with an X-Amz-Target) with the
 * errors AWS returns. Every client that reaches the service through the proxy sees the faults: the Lambda handlers
 * in-process and the agent processes alike, with no fault code in either. Lambda Invoke and query-protocol calls
 * pass through untouched.
 *
 * A proxy rather than an SDK middleware: it also reaches the agents, which run as separate processes, and it sits
 * below the SDK's own retries, as AWS's failures do.
 */
export async function startFaultProxy(target: string, options: FaultOptions): Promise<FaultProxy> {
  if (!(options.rate >= 0 && options.rate <= 1)) throw new RangeError(`Fault rate must be between 0 and 1, not ${options.rate}`);
  const upstream = new URL(target);
  const random = seededRandom(options.seed ?? Date.now());
  const counts = { calls: 0, throttled: 0, unavailable: 0, lostAnswer: 0 };
  const operations = new Map<string, OperationCounts>();
  const tableOperations = new Map<string, number>();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const target = req.headers['x-amz-target'];
      const draw = random();
      const kind = typeof target === 'string' && draw < options.rate ? FAULT_KINDS[Math.floor((draw / options.rate) * FAULT_KINDS.length)]! : undefined;
      if (typeof target === 'string') {
        counts.calls++;
        // Parsed once for both counts; a body that is not JSON counts as one call with one item and no table (the
        // service answers the malformed call itself).
        const input = parseBody(body);
        countOperation(operations, target, input);
        if (target.startsWith('DynamoDB_') && input) countTableOperation(tableOperations, target, input);
      }
      if (kind) counts[kind]++;
      if (kind === 'throttled') return sendFault(res, 400, 'ThrottlingException', 'Rate exceeded');
      if (kind === 'unavailable') return sendFault(res, 500, 'InternalServerError', 'Internal server error (injected)');
      const forward = http.request(
        { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers, agent },
        (answer) => {
          if (kind === 'lostAnswer') {
            answer.resume();
            answer.on('end', () => sendFault(res, 500, 'InternalServerError', 'The request was applied; its answer was lost (injected)'));
            return;
          }
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      forward.on('error', (error) => sendFault(res, 502, 'InternalServerError', `upstream failed: ${error.message}`));
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    counts,
    operations,
    tableOperations,
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The request's JSON body, with the fields the counts read; undefined when it is not JSON. */
interface CountedInput {
  WaitTimeSeconds?: unknown;
  TableName?: string;
  TransactItems?: Record<string, { TableName?: string }>[];
  RequestItems?: Record<string, unknown[] | { Keys?: unknown[] }>;
}

function parseBody(body: Buffer): CountedInput | undefined {
  try {
    return JSON.parse(body.toString('utf8')) as CountedInput;
  } catch {
    return undefined;
  }
}

/**
 * One call of `target` (e.g. DynamoDB_20120810.TransactWriteItems): its items are the entries of a transaction or
 * a batch (TransactItems, or every table's RequestItems), 1 for any other call.
 */
function countOperation(operations: Map<string, OperationCounts>, target: string, input: CountedInput | undefined): void {
  const operation = wireOperation(target, input);
  let items = 1;
  if (input?.TransactItems) items = input.TransactItems.length;
  else if (input?.RequestItems) items = Object.values(input.RequestItems).reduce<number>((n, v) => n + (Array.isArray(v) ? v.length : (v.Keys?.length ?? 0)), 0);
  const seen = operations.get(operation) ?? { calls: 0, items: 0 };
  operations.set(operation, { calls: seen.calls + 1, items: seen.items + items });
}

/** Which tables a DynamoDB call touches: TableName, or each table a transaction or batch names, in order, once. */
function countTableOperation(tableOperations: Map<string, number>, target: string, input: CountedInput): void {
  const fromItems = (input.TransactItems ?? []).flatMap((item) => Object.values(item).map((action) => action.TableName ?? '?'));
  const tables = input.TableName ? [input.TableName] : [...new Set([...fromItems, ...Object.keys(input.RequestItems ?? {})])];
  const key = `${wireOperation(target, input)} ${tables.join('+')}`;
  tableOperations.set(key, (tableOperations.get(key) ?? 0) + 1);
}

/**
 * An AWS JSON-protocol error: `__type` for JSON 1.0/1.1 clients, `x-amzn-errortype` and `x-amzn-query-error` for
 * the others (SQS names its errors from the latter). The SDKs retry both kinds: throttling and 5xx.
 */
function sendFault(res: http.ServerResponse, status: number, type: string, message: string): void {
  if (res.headersSent) return void res.destroy();
  res
    .writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-errortype': type, 'x-amzn-query-error': `${type};${status < 500 ? 'Sender' : 'Receiver'}` })
    .end(JSON.stringify({ __type: type, message }));
}

/**
 * mulberry32: a seeded draw in [0, 1). Written here because a repeatable fault sequence needs a seed, which
 * Math.random lacks, and five lines do not justify a dependency.
 */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
