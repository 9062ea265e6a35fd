import { startFaultProxy, type FaultOptions, type FaultProxy, type OperationCounts, type ProxyCounts } from './fault-proxy.ts';

export type FaultyService = 'dynamodb' | 'sqs' | 'stepfunctions' | 'eventbridge';

/** The variables that point the SDK clients of handlers and agents at a service (AWS_ENDPOINT_URL_<SERVICE>). */
const ENDPOINT_VARIABLE: Record<FaultyService, string> = {
  dynamodb: 'AWS_ENDPOINT_URL_DYNAMODB',
  sqs: 'AWS_ENDPOINT_URL_SQS',
  stepfunctions: 'AWS_ENDPOINT_URL_SFN',
  eventbridge: 'AWS_ENDPOINT_URL_EVENTBRIDGE',
};

export interface RuntimeFaults {
  /** Calls seen and faults injected so far, per service. */
  counts(): Record<FaultyService, ProxyCounts>;
  /** Calls per service and operation (the bench's calls per job on the wire), with their items. */
  operations(): Record<FaultyService, Record<string, OperationCounts>>;
  /** DynamoDB calls per operation and table. */
  dynamoDbTables(): Record<string, number>;
  close(): Promise<void>;
}

/**
 * Puts a fault proxy in front of each service the platform's code calls, and returns the environment with the
 * endpoint variables pointing at the proxies: every handler and agent started with it meets the faults. Each
 * proxy draws from its own seed (derived from the one given), so a run can be repeated.
 */
export async function injectFaults(environment: Record<string, string>, options: FaultOptions): Promise<{ environment: Record<string, string>; faults: RuntimeFaults }> {
  const proxies = new Map<FaultyService, FaultProxy>();
  const seed = options.seed ?? Date.now();
  const next = { ...environment };
  try {
    for (const [index, [service, variable]] of (Object.entries(ENDPOINT_VARIABLE) as [FaultyService, string][]).entries()) {
      const target = environment[variable];
      if (!target) throw new Error(`Cannot inject faults into ${service}: ${variable} is not set`);
      const proxy = await startFaultProxy(target, { rate: options.rate, seed: seed + index });
      proxies.set(service, proxy);
      next[variable] = proxy.endpoint;
    }
  } catch (error) {
    await Promise.all([...proxies.values()].map((p) => p.close()));
    throw error;
  }
  return {
    environment: next,
    faults: {
      counts: () => Object.fromEntries([...proxies].map(([service, proxy]) => [service, { ...proxy.counts }])) as ReturnType<RuntimeFaults['counts']>,
      operations: () => Object.fromEntries([...proxies].map(([service, proxy]) => [service, Object.fromEntries(proxy.operations)])) as ReturnType<RuntimeFaults['operations']>,
      dynamoDbTables: () => Object.fromEntries(proxies.get('dynamodb')?.tableOperations ?? []),
      close: async () => {
        await Promise.all([...proxies.values()].map((p) => p.close()));
      },
    },
  };
}
