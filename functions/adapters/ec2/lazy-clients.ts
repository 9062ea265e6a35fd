import type { EC2Client, EC2ClientConfig } from '@aws-sdk/client-ec2';
import type { SSMClient, SSMClientConfig } from '@aws-sdk/client-ssm';

export type Ec2Sdk = typeof import('@aws-sdk/client-ec2');
export type SsmSdk = typeof import('@aws-sdk/client-ssm');

/**
 * A client whose SDK module is imported on first use. @aws-sdk/client-ec2 takes about 0.8 s to import (Node 20, 2
 * cores) and client-ssm 0.2 s, against 0.15 s for most clients: the api, which calls EC2 on its worker routes only,
 * and the fleet steps that never call it, would pay that at every cold start. A dynamic import() of a module left
 * out of the bundle stays a dynamic import in it, so the cost moves to the first call that needs EC2.
 */
export class LazyClient<Sdk, Client> {
  private loaded?: Promise<{ sdk: Sdk; client: Client }>;

  constructor(
    private readonly load: () => Promise<Sdk>,
    private readonly make: (sdk: Sdk) => Client,
  ) {}

  /** Runs `call` with the client and its module's commands, importing the module the first time. */
  async use<T>(call: (client: Client, sdk: Sdk) => Promise<T>): Promise<T> {
    this.loaded ??= this.load().then((sdk) => ({ sdk, client: this.make(sdk) }));
    let loaded: { sdk: Sdk; client: Client };
    try {
      loaded = await this.loaded;
    } catch (error) {
      // A failed import is tried again by the next call rather than remembered for the life of the instance.
      this.loaded = undefined;
      throw error;
    }
    return call(loaded.client, loaded.sdk);
  }
}

export type LazyEc2 = LazyClient<Ec2Sdk, EC2Client>;
export type LazySsm = LazyClient<SsmSdk, SSMClient>;

// Typed as the module's namespace: import() adds a `default` (the CommonJS exports) that these never use.
const loadEc2 = (): Promise<Ec2Sdk> => import('@aws-sdk/client-ec2');
const loadSsm = (): Promise<SsmSdk> => import('@aws-sdk/client-ssm');

export const lazyEc2 = (config: EC2ClientConfig): LazyEc2 => new LazyClient(loadEc2, (sdk) => new sdk.EC2Client(config));
export const lazySsm = (config: SSMClientConfig): LazySsm => new LazyClient(loadSsm, (sdk) => new sdk.SSMClient(config));

/** An EC2 client made already (tests with aws-sdk-client-mock, benches), or one to make on first use. */
export const asLazyEc2 = (client: EC2Client | LazyEc2): LazyEc2 => ('use' in client ? client : new LazyClient(loadEc2, () => client));
export const asLazySsm = (client: SSMClient | LazySsm): LazySsm => ('use' in client ? client : new LazyClient(loadSsm, () => client));
