import type { EC2Client, InstanceStatus } from '@aws-sdk/client-ec2';
import { asLazyEc2, type LazyEc2 } from './lazy-clients.ts';
import type { InstanceHealth, InstanceHealthSource, MonitoringControl, SourceResult } from '../../core/fleet/metrics-ports.ts';

/** DescribeInstanceStatus takes at most 100 explicit instance ids, or pages of up to 1,000 without them. */
export const MAX_IDS_PER_CALL = 100;
export const MAX_RESULTS_PER_PAGE = 1000;

const errorOf = (error: unknown) => ({ code: (error as Error).name || 'Error', message: (error as Error).message });

/**
 * EC2 status checks for the collector, in as few calls as the API allows: up to 100 workers in one call naming
 * them; more, and it pages through the region's instances 1,000 at a time (IncludeAllInstances, so stopped and
 * terminated ones are reported, not missing) and keeps ours. A page that fails fails only the instances not yet
 * seen; an instance EC2 never mentions gets INSTANCE_NOT_FOUND (gone longer than EC2 remembers terminated ones).
 */
export class Ec2InstanceHealthSource implements InstanceHealthSource {
  private readonly ec2: LazyEc2;

  constructor(ec2: EC2Client | LazyEc2) {
    this.ec2 = asLazyEc2(ec2);
  }

  async describe(instanceIds: readonly string[]): Promise<Map<string, SourceResult<InstanceHealth>>> {
    const wanted = new Set(instanceIds);
    const found = new Map<string, SourceResult<InstanceHealth>>();
    let failure: SourceResult<InstanceHealth> | undefined;
    try {
      if (wanted.size <= MAX_IDS_PER_CALL) await this.page({ InstanceIds: [...wanted] }, wanted, found);
      else await this.allPages(wanted, found);
    } catch (error) {
      failure = { ok: false, error: errorOf(error) };
    }
    const missing: SourceResult<InstanceHealth> = failure ?? { ok: false, error: { code: 'INSTANCE_NOT_FOUND', message: 'EC2 does not know this instance (terminated long ago, or in another region)' } };
    for (const id of wanted) if (!found.has(id)) found.set(id, missing);
    return found;
  }

  private async allPages(wanted: Set<string>, found: Map<string, SourceResult<InstanceHealth>>): Promise<void> {
    let token: string | undefined;
    do {
      token = await this.page({ MaxResults: MAX_RESULTS_PER_PAGE, ...(token ? { NextToken: token } : {}) }, wanted, found);
    } while (token && found.size < wanted.size);
  }

  private async page(input: { InstanceIds?: string[]; MaxResults?: number; NextToken?: string }, wanted: Set<string>, found: Map<string, SourceResult<InstanceHealth>>): Promise<string | undefined> {
    const output = await this.ec2.use((ec2, sdk) => ec2.send(new sdk.DescribeInstanceStatusCommand({ ...input, IncludeAllInstances: true })));
    for (const status of output.InstanceStatuses ?? []) {
      if (status.InstanceId && wanted.has(status.InstanceId)) found.set(status.InstanceId, { ok: true, value: healthOf(status) });
    }
    return output.NextToken;
  }
}

function healthOf(status: InstanceStatus): InstanceHealth {
  return {
    instanceState: status.InstanceState?.Name ?? 'unknown',
    systemStatus: status.SystemStatus?.Status ?? 'not-applicable',
    instanceStatus: status.InstanceStatus?.Status ?? 'not-applicable',
    scheduledEvents: (status.Events ?? []).map((event) => ({
      code: event.Code ?? 'unknown',
      ...(event.NotBefore ? { notBefore: event.NotBefore.toISOString() } : {}),
      ...(event.Description ? { description: event.Description } : {}),
    })),
  };
}

/** MonitorInstances / UnmonitorInstances for one worker's instance; both are idempotent in EC2. */
export class Ec2MonitoringControl implements MonitoringControl {
  private readonly ec2: LazyEc2;

  constructor(ec2: EC2Client | LazyEc2) {
    this.ec2 = asLazyEc2(ec2);
  }

  async setDetailedMonitoring(instanceId: string, enabled: boolean): Promise<void> {
    await this.ec2.use((ec2, sdk) => ec2.send(enabled ? new sdk.MonitorInstancesCommand({ InstanceIds: [instanceId] }) : new sdk.UnmonitorInstancesCommand({ InstanceIds: [instanceId] })));
  }
}
