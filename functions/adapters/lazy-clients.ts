import type { CloudWatchClient, CloudWatchClientConfig } from '@aws-sdk/client-cloudwatch';
import type { EventBridgeClient, EventBridgeClientConfig } from '@aws-sdk/client-eventbridge';
import type { SFNClient, SFNClientConfig } from '@aws-sdk/client-sfn';
import type { SQSClient, SQSClientConfig } from '@aws-sdk/client-sqs';
import { asLazy, LazyClient } from './lazy-client.ts';

// The api's fast path (decision 0011) calls Step Functions, SQS and EventBridge on writes only, and SQS only when a
// start failed: made on first use, a cold start that serves a read loads none of the three (about 90 ms on 2 cores
// on top of DynamoDB's client, decision 0019). The fleet functions call Step Functions only when they start or answer
// a saga, and CloudWatch only to collect metrics (decision 0019). Functions that call a client on every invocation
// pass one made already: a lazy one would only move its import into the first invocation.

export type SfnSdk = typeof import('@aws-sdk/client-sfn');
export type SqsSdk = typeof import('@aws-sdk/client-sqs');
export type EventBridgeSdk = typeof import('@aws-sdk/client-eventbridge');
export type CloudWatchSdk = typeof import('@aws-sdk/client-cloudwatch');

export type LazySfn = LazyClient<SfnSdk, SFNClient>;
export type LazySqs = LazyClient<SqsSdk, SQSClient>;
export type LazyEventBridge = LazyClient<EventBridgeSdk, EventBridgeClient>;
export type LazyCloudWatch = LazyClient<CloudWatchSdk, CloudWatchClient>;

// Typed as the module's namespace: import() adds a `default` (the CommonJS exports) that these never use.
const loadSfn = (): Promise<SfnSdk> => import('@aws-sdk/client-sfn');
const loadSqs = (): Promise<SqsSdk> => import('@aws-sdk/client-sqs');
const loadEventBridge = (): Promise<EventBridgeSdk> => import('@aws-sdk/client-eventbridge');
const loadCloudWatch = (): Promise<CloudWatchSdk> => import('@aws-sdk/client-cloudwatch');

export const lazySfn = (config: SFNClientConfig): LazySfn => new LazyClient(loadSfn, (sdk) => new sdk.SFNClient(config));
export const lazySqs = (config: SQSClientConfig): LazySqs => new LazyClient(loadSqs, (sdk) => new sdk.SQSClient(config));
export const lazyEventBridge = (config: EventBridgeClientConfig): LazyEventBridge => new LazyClient(loadEventBridge, (sdk) => new sdk.EventBridgeClient(config));
export const lazyCloudWatch = (config: CloudWatchClientConfig): LazyCloudWatch => new LazyClient(loadCloudWatch, (sdk) => new sdk.CloudWatchClient(config));

/**
 * An SQS client's settings in a handler: an explicit endpoint when AWS_ENDPOINT_URL_SQS names one (locally, as the
 * agent does), since local queue URLs name a host that does not resolve; in AWS, none.
 */
export const sqsEndpointConfig = (env: NodeJS.ProcessEnv = process.env): SQSClientConfig =>
  env.AWS_ENDPOINT_URL_SQS ? { endpoint: env.AWS_ENDPOINT_URL_SQS } : {};

/** A client made already (most functions, tests with aws-sdk-client-mock), or one to make on first use. */
export const asLazySfn = (client: SFNClient | LazySfn): LazySfn => asLazy(client, loadSfn);
export const asLazySqs = (client: SQSClient | LazySqs): LazySqs => asLazy(client, loadSqs);
export const asLazyEventBridge = (client: EventBridgeClient | LazyEventBridge): LazyEventBridge => asLazy(client, loadEventBridge);
export const asLazyCloudWatch = (client: CloudWatchClient | LazyCloudWatch): LazyCloudWatch => asLazy(client, loadCloudWatch);
