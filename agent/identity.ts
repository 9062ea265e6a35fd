import type { AgentIdentity } from '../functions/core/fleet/agent-protocol.ts';
import { AGENT_FLEET_ENV } from '../functions/declarations/workers.ts';


/** The agent's release, sent with every registration and heartbeat (bump it with agent changes). */
export const AGENT_VERSION = '0.3.0';

const IMDS = 'http://169.254.169.254';
const IMDS_TOKEN_TTL_SECONDS = 21_600;
const IMDS_TIMEOUT_MS = 2000;

export class AgentIdentityError extends Error {
  override name = 'AgentIdentityError';
}

/**
 * Who this agent is. On EC2 the instance id comes from the instance identity document, read over IMDSv2 (a
 * session token first: the launch template requires it, with a hop limit of 1, so nothing beyond this host reads
 * it). The worker id is the one the bootstrap was given (--worker-id). Locally the runtime gives both.
 */
export async function readIdentity(workerId: string | undefined, env: NodeJS.ProcessEnv, fetchImpl: typeof fetch = fetch): Promise<AgentIdentity> {
  if (!workerId) throw new AgentIdentityError('No worker id (--worker-id / FORGEFLOW_WORKER_ID): a fleet agent needs the one its bootstrap was given');
  const source = env[AGENT_FLEET_ENV.instanceIdentity] ?? 'imds';
  if (source === 'local') {
    const instanceId = env.FORGEFLOW_INSTANCE_ID;
    if (!instanceId) throw new AgentIdentityError('FORGEFLOW_INSTANCE_ID is not set for a local identity');
    return { workerId, instanceId, agentVersion: AGENT_VERSION };
  }
  if (source !== 'imds') throw new AgentIdentityError(`FORGEFLOW_INSTANCE_IDENTITY must be "imds" or "local", not "${source}"`);
  return { workerId, instanceId: await instanceIdFromImds(fetchImpl), agentVersion: AGENT_VERSION };
}

async function instanceIdFromImds(fetchImpl: typeof fetch): Promise<string> {
  try {
    const tokenResponse = await fetchImpl(`${IMDS}/latest/api/token`, {
      method: 'PUT',
      headers: { 'x-aws-ec2-metadata-token-ttl-seconds': String(IMDS_TOKEN_TTL_SECONDS) },
      signal: AbortSignal.timeout(IMDS_TIMEOUT_MS),
    });
    if (!tokenResponse.ok) throw new Error(`token request answered ${tokenResponse.status}`);
    const token = await tokenResponse.text();
    const document = await fetchImpl(`${IMDS}/latest/dynamic/instance-identity/document`, {
      headers: { 'x-aws-ec2-metadata-token': token },
      signal: AbortSignal.timeout(IMDS_TIMEOUT_MS),
    });
    if (!document.ok) throw new Error(`identity document answered ${document.status}`);
    const { instanceId } = (await document.json()) as { instanceId?: unknown };
    if (typeof instanceId !== 'string') throw new Error('the identity document has no instanceId');
    return instanceId;
  } catch (error) {
    throw new AgentIdentityError(`Could not read the instance identity over IMDSv2: ${(error as Error).message}`, { cause: error });
  }
}
