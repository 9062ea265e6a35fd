import { join } from 'node:path';
import { loadOrCreateLocalCredentials } from './credentials.ts';
import { launchDynamoDbLocal, type LaunchedDynamoDbLocal } from './dynamodb-local.ts';
import { PortInUseError } from './http-gateway.ts';
import { isPortFree } from './ports.ts';

/**
 * The first steps of a local runtime's start, apart from the runtime's module graph so that `npm start` can take
 * them before it loads that graph (about 1 s): Java then starts while the modules load.
 */

/** Fails in milliseconds with a clear message when the API's port is taken, before any Java starts. */
export async function assertApiPortFree(port: number): Promise<void> {
  if (port !== 0 && !(await isPortFree(port))) throw new PortInUseError(port);
}

/** This home's own DynamoDB Local: its tables on disk under `home` (or in memory), under the home's access key. */
export function launchHomeDynamoDb(home: string, options: { inMemoryTables?: boolean; port?: number } = {}): Promise<LaunchedDynamoDbLocal> {
  const credentials = loadOrCreateLocalCredentials(home);
  return launchDynamoDbLocal({ ...(options.inMemoryTables ? {} : { dataDir: join(home, 'dynamodb') }), port: options.port, credentials });
}
