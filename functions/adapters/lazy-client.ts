import { withoutCallLogging } from './sdk-call-logging.ts';

/**
 * A client whose SDK module is imported on first use. Some clients take long to import (Node 20, 2 cores: EC2 about
 * 0.8 s, SSM 0.2 s, CloudWatch Logs 60 ms on top of the clients every function loads), and a function that needs them
 * on a few routes only (the api) or not at all (most fleet steps) would pay that at every cold start. A dynamic
 * import() of a module left out of the bundle stays a dynamic import in it, so the cost moves to the first call.
 */
export class LazyClient<Sdk, Client> {
  private loaded?: Promise<{ sdk: Sdk; client: Client }>;

  constructor(
    private readonly load: () => Promise<Sdk>,
    private readonly make: (sdk: Sdk) => Client,
  ) {}

  /** Runs `call` with the client and its module's commands, importing the module the first time. */
  async use<T>(call: (client: Client, sdk: Sdk) => Promise<T>): Promise<T> {
    this.loaded ??= this.load().then((sdk) => ({ sdk, client: withoutCallLogging(this.make(sdk)) }));
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

/** A client made already (the agent, tests with aws-sdk-client-mock, benches) as a LazyClient, or the one given. */
export function asLazy<Sdk, Client>(client: Client | LazyClient<Sdk, Client>, load: () => Promise<Sdk>): LazyClient<Sdk, Client> {
  return client instanceof LazyClient ? client : new LazyClient(load, () => client);
}
