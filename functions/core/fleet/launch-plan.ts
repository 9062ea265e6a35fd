import { Market, type ResolvedWorkerClass } from '../../declarations/worker-classes.ts';
import { ProvisioningError } from './provisioning-failures.ts';
import type { RateLimiter } from '../ports.ts';
import type { Ec2RateLimitKey } from './ec2-rate-limits.ts';
import type { LaunchCandidate, LaunchedInstance, LaunchRequest, WorkerProvider } from './ports.ts';

/** The RateLimiter key of RunInstances (one bucket per account and region in EC2, see EC2_RATE_LIMITS). */
export const RUN_INSTANCES_RATE_KEY = 'RunInstances' satisfies Ec2RateLimitKey;
/** A wait for a launch token this short is slept inside the step; a longer one goes back to the state machine's backoff. */
const MAX_IN_STEP_WAIT_MS = 1000;

/**
 * The ordered fallback of one launch: instance types in the class's order (an explicitly requested type first),
 * and for each type every subnet, spot first when the class allows it, then on-demand. Capacity is per type and
 * Availability Zone, so walking subnets (zones) before giving up on a type finds capacity a single zone lacks.
 */
export function launchCandidates(workerClass: ResolvedWorkerClass, options: { preferredInstanceType?: string; subnetIds?: readonly string[] } = {}): LaunchCandidate[] {
  const types = options.preferredInstanceType ? [options.preferredInstanceType, ...workerClass.instanceTypes.filter((t) => t !== options.preferredInstanceType)] : [...workerClass.instanceTypes];
  const subnets: (string | undefined)[] = options.subnetIds?.length ? [...options.subnetIds] : [undefined];
  const markets = workerClass.market === Market.SPOT_WITH_ON_DEMAND_FALLBACK ? (['spot', 'on-demand'] as const) : (['on-demand'] as const);
  const candidates: LaunchCandidate[] = [];
  for (const market of markets) {
    for (const instanceType of types) {
      for (const subnetId of subnets) candidates.push({ instanceType, market, ...(subnetId ? { subnetId } : {}) });
    }
  }
  return candidates;
}

export interface LaunchWalkDeps {
  provider: WorkerProvider;
  limiter?: RateLimiter;
  sleep?: (ms: number) => Promise<void>;
}

export interface LaunchWalkResult {
  instance: LaunchedInstance;
  /** Candidates tried, the successful one included. */
  attempts: number;
}

/**
 * Launches one instance, walking the candidates. No capacity for a candidate: the next one. A quota refusal rules
 * out the rest of that market (spot and on-demand have separate vCPU quotas). Throttling and every other error
 * end the walk: throttling goes back to the state machine's backoff with jitter, so a throttled account sees
 * fewer calls, never a storm. Each candidate has its own client token, so a repeated step relaunches nothing.
 */
export async function launchWithFallback(request: Omit<LaunchRequest, 'candidate' | 'clientToken'>, candidates: readonly LaunchCandidate[], deps: LaunchWalkDeps): Promise<LaunchWalkResult> {
  const refused: string[] = [];
  const quotaMarkets = new Set<string>();
  let quotaOnly = true;
  for (const [index, candidate] of candidates.entries()) {
    if (quotaMarkets.has(candidate.market)) continue;
    await takeLaunchToken(deps);
    try {
      const instance = await deps.provider.launch({ ...request, candidate, clientToken: `${request.workerId}-${index}` });
      return { instance, attempts: refused.length + 1 };
    } catch (error) {
      if (!(error instanceof ProvisioningError)) throw error;
      if (error.reason === 'INSUFFICIENT_CAPACITY') quotaOnly = false;
      else if (error.reason === 'VCPU_QUOTA_EXCEEDED') quotaMarkets.add(candidate.market);
      else throw error;
      refused.push(`${candidate.instanceType}/${candidate.market}${candidate.subnetId ? `/${candidate.subnetId}` : ''}: ${error.message}`);
    }
  }
  const reason = quotaOnly && refused.length > 0 ? 'VCPU_QUOTA_EXCEEDED' : 'INSUFFICIENT_CAPACITY';
  throw new ProvisioningError(reason, `No instance could be launched for worker ${request.workerId}; tried ${refused.length}: ${refused.join('; ')}`.slice(0, 4000));
}

async function takeLaunchToken(deps: LaunchWalkDeps): Promise<void> {
  if (!deps.limiter) return;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  for (;;) {
    const { granted, waitMs } = await deps.limiter.take(RUN_INSTANCES_RATE_KEY);
    if (granted) return;
    if (waitMs > MAX_IN_STEP_WAIT_MS) throw new ProvisioningError('THROTTLED', `The RunInstances rate budget is spent; next token in ${waitMs} ms`);
    await sleep(waitMs);
  }
}
