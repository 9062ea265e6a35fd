import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { HttpEvent, HttpResult } from '../../functions/api/http.ts';
import { createApi } from '../../functions/api/app.ts';
import { DynamoJobStore } from '../../functions/adapters/dynamodb/job-store.ts';
import { systemClock } from '../../functions/core/ports.ts';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { createTestTables } from './dynamodb.ts';
import { forwardCarriedEvents } from './job-stream.ts';
import { EventHistory } from '../../functions/adapters/dynamodb/event-history.ts';
import { WebhookDeliveries } from '../../functions/consumers/webhooks/deliveries.ts';
import { TenantSecrets } from '../../functions/adapters/dynamodb/tenant-secrets.ts';
import { DynamoRateLimiter } from '../../functions/adapters/dynamodb/rate-limiter.ts';
import { TenantRateLimit } from '../../functions/api/tenant-rate-limit.ts';
import type { RateLimiter } from '../../functions/core/ports.ts';
import type { BucketConfig } from '../../functions/core/token-bucket.ts';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface Caller {
  sub: string;
  tenant: string;
  groups?: string[];
}

export const alice: Caller = { sub: 'alice', tenant: 'acme' };
export const bob: Caller = { sub: 'bob', tenant: 'globex' };
/** The platform's administrator (fleet, platform-wide stats). */
export const root: Caller = { sub: 'root', tenant: 'acme', groups: ['platform-admin'] };
/** A tenant's administrator (its webhook secret), nothing platform-wide. */
export const tenantAdmin: Caller = { sub: 'tina', tenant: 'acme', groups: ['admin'] };

export interface RequestOptions {
  caller?: Caller | null;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
  query?: Record<string, string>;
}

/** Builds an API Gateway HTTP API v2 event the way the JWT authorizer would hand it over. */
export function httpEvent(method: string, path: string, options: RequestOptions = {}): HttpEvent {
  const caller = options.caller === undefined ? alice : options.caller;
  const body = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  const headers: Record<string, string> = {
    ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    ...Object.fromEntries(Object.entries(options.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
  };
  const claims = caller ? { sub: caller.sub, tenant: caller.tenant, groups: `[${(caller.groups ?? []).join(' ')}]` } : undefined;
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: new URLSearchParams(options.query ?? {}).toString(),
    headers,
    queryStringParameters: options.query,
    body,
    isBase64Encoded: false,
    requestContext: {
      accountId: 'local', apiId: 'local', domainName: 'localhost', domainPrefix: 'localhost', requestId: randomUUID(),
      routeKey: '$default', stage: '$default', time: new Date().toISOString(), timeEpoch: Date.now(),
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      ...(claims ? { authorizer: { jwt: { claims, scopes: [] } } } : {}),
    },
  } as HttpEvent;
}

export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown> & { code?: string; items?: Record<string, unknown>[] };
}

/** Well above what any API test sends, so only test/api/rate-limits.test.ts meets the tenant limit. */
export const TEST_TENANT_RATE_LIMIT: BucketConfig = { burst: 1000, refillPerSecond: 1000 };

export interface TenantRateLimitOptions {
  limit?: BucketConfig;
  /** The bucket's clock, in epoch ms. */
  now?: () => number;
  /** Replaces the DynamoDB bucket store (e.g. with one that fails). */
  limiter?: RateLimiter;
  logger?: Logger;
}

/** The tenant limit as the Lambda handler wires it: a DynamoRateLimiter on the counters table. */
export function testTenantRateLimit(documentClient: DynamoDBDocumentClient, countersTable: string, options: TenantRateLimitOptions = {}): TenantRateLimit {
  const limit = options.limit ?? TEST_TENANT_RATE_LIMIT;
  return new TenantRateLimit({
    limiter: options.limiter ?? new DynamoRateLimiter(documentClient, { table: countersTable, limits: limit, ...(options.now ? { now: options.now } : {}) }),
    limit,
    logger: options.logger ?? new Logger({ logLevel: 'SILENT' }),
  });
}

/** An API wired exactly like the Lambda handler, against fresh tables in DynamoDB Local. */
export async function createTestApi(options: { rateLimit?: TenantRateLimitOptions } = {}) {
  const tables = await createTestTables();
  const store = new DynamoJobStore(tables.documentClient, tables.tableNames);
  const api = createApi({
    store,
    history: new EventHistory(tables.documentClient, tables.tableNames.outbox),
    deliveries: new WebhookDeliveries(tables.documentClient, tables.tableNames.webhookDeliveries),
    secrets: new TenantSecrets(tables.documentClient, tables.tableNames.tenants),
    clock: systemClock,
    logger: new Logger({ logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: 'ForgeflowTest' }),
    tenantRateLimit: testTenantRateLimit(tables.documentClient, tables.tableNames.counters, options.rateLimit),
  });
  const call = async (method: string, path: string, options?: RequestOptions): Promise<ApiResponse> => {
    const result: HttpResult = await api(httpEvent(method, path, options));
    return { status: result.statusCode, headers: result.headers, body: result.body ? JSON.parse(result.body as string) : {} };
  };
  /** Outbox rows of one job, oldest first. A Scan is fine here: test tables hold a handful of items. */
  const outboxEventsFor = async (jobId: string) => {
    await forwardCarriedEvents(tables);
    const { Items = [] } = await tables.documentClient.send(new ScanCommand({ TableName: tables.tableNames.outbox, ConsistentRead: true }));
    return Items.filter((i) => i.subject === jobId)
      .sort((a, b) => (a.eventId < b.eventId ? -1 : 1))
      .map((i) => JSON.parse(i.envelope as string) as { type: string; id: string; data: Record<string, unknown> });
  };
  return { call, store, tables, outboxEventsFor };
}
