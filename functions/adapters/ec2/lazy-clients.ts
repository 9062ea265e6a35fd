import type { EC2Client, EC2ClientConfig } from '@aws-sdk/client-ec2';
import type { SSMClient, SSMClientConfig } from '@aws-sdk/client-ssm';
import { asLazy, LazyClient } from '../lazy-client.ts';

export type Ec2Sdk = typeof import('@aws-sdk/client-ec2');
export type SsmSdk = typeof import('@aws-sdk/client-ssm');

// EC2's client takes about 0.8 s to import and SSM's 0.2 s: only the calls that need them load them (lazy-client.ts).

export type LazyEc2 = LazyClient<Ec2Sdk, EC2Client>;
export type LazySsm = LazyClient<SsmSdk, SSMClient>;

// Typed as the module's namespace: import() adds a `default` (the CommonJS exports) that these never use.
const loadEc2 = (): Promise<Ec2Sdk> => import('@aws-sdk/client-ec2');
const loadSsm = (): Promise<SsmSdk> => import('@aws-sdk/client-ssm');

export const lazyEc2 = (config: EC2ClientConfig): LazyEc2 => new LazyClient(loadEc2, (sdk) => new sdk.EC2Client(config));
export const lazySsm = (config: SSMClientConfig): LazySsm => new LazyClient(loadSsm, (sdk) => new sdk.SSMClient(config));

/** An EC2 client made already (tests with aws-sdk-client-mock, benches), or one to make on first use. */
export const asLazyEc2 = (client: EC2Client | LazyEc2): LazyEc2 => asLazy(client, loadEc2);
export const asLazySsm = (client: SSMClient | LazySsm): LazySsm => asLazy(client, loadSsm);
