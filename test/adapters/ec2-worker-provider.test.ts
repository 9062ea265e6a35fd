import { DescribeImagesCommand, DescribeInstancesCommand, EC2Client, EC2ServiceException, RunInstancesCommand, TerminateInstancesCommand, type Instance } from '@aws-sdk/client-ec2';
import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { classifyEc2Error, createEc2Clients, Ec2WorkerProvider } from '../../functions/adapters/ec2/worker-provider.ts';
import { asLazyEc2, asLazySsm } from '../../functions/adapters/ec2/lazy-clients.ts';
import type { LaunchRequest } from '../../functions/core/fleet/ports.ts';
import { launchCandidates, launchWithFallback } from '../../functions/core/fleet/launch-plan.ts';
import { ProvisioningError } from '../../functions/core/fleet/provisioning-failures.ts';
import { resolveWorkerClass, type WorkerClassDefinition } from '../../functions/declarations/worker-classes.ts';

const ec2 = mockClient(EC2Client);
const ssm = mockClient(SSMClient);
// Test files share a process (the unit project does not isolate them): the stubs must not outlive this file.
afterAll(() => {
  ec2.restore();
  ssm.restore();
});

const definition: WorkerClassDefinition = {
  name: 'default', instanceTypes: ['m7g.large', 'm6g.large'], market: 'spot-with-on-demand-fallback', defaultAmi: 'al2023', maxWorkers: 10, slotsPerWorker: 4, rootVolumeGiB: 40,
  amis: {
    fixed: { imageId: 'ami-0fixed000000000001' },
    al2023: { ssmParameter: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64' },
    baked: { namePattern: 'forgeflow-worker-*', owners: ['self'] },
  },
};
const workerClass = resolveWorkerClass(definition, 'aws');
const image = { amiName: 'al2023', amiId: 'ami-0123456789abcdef0', rootDeviceName: '/dev/xvda' };

function ec2Error(name: string, message: string, fault: 'client' | 'server' = 'client') {
  return new EC2ServiceException({ name, $fault: fault, $metadata: { httpStatusCode: fault === 'server' ? 500 : 400, requestId: 'req-1' }, message });
}

function ec2Instance(id: string, overrides: Partial<Instance> = {}): Instance {
  return {
    InstanceId: id,
    InstanceType: 'm7g.large',
    Placement: { AvailabilityZone: 'us-east-1a', Tenancy: 'default' },
    State: { Code: 16, Name: 'running' },
    LaunchTime: new Date('2025-06-01T10:00:00.000Z'),
    Tags: [{ Key: 'forgeflow:stack', Value: 'forgeflow-test' }, { Key: 'forgeflow:class', Value: 'default' }, { Key: 'forgeflow:worker-id', Value: `wrk_${id}` }],
    ...overrides,
  };
}

function launchRequest(overrides: Partial<LaunchRequest['candidate']> = {}): LaunchRequest {
  return {
    workerId: 'wrk_01J0000000000000000000000A',
    workerClass,
    image,
    candidate: { instanceType: 'm7g.large', market: 'spot', subnetId: 'subnet-0abc1234', ...overrides },
    clientToken: 'wrk_01J0000000000000000000000A-1',
  };
}

function provider(now: () => number = () => 1_700_000_000_000) {
  return new Ec2WorkerProvider(
    { ec2: new EC2Client({ region: 'us-east-1' }), ssm: new SSMClient({ region: 'us-east-1' }) },
    { stackName: 'forgeflow-test', launchTemplateIds: { default: 'lt-0123456789abcdef0' }, userData: (workerId, c) => `#!/bin/bash\necho ${workerId} ${c.name}\n`, now },
  );
}

beforeEach(() => {
  ec2.reset();
  ssm.reset();
});

describe('Method: Ec2WorkerProvider.launch', () => {
  it('makes one RunInstances with template, tags, encrypted gp3 root on the image root device, spot options and user data', async () => {
    ec2.on(RunInstancesCommand).resolves({
      ReservationId: 'r-1',
      Instances: [ec2Instance('i-0aaa', { State: { Code: 0, Name: 'pending' }, InstanceLifecycle: 'spot', Placement: { AvailabilityZone: 'us-east-1b' } })],
    });

    const launched = await provider().launch(launchRequest());

    expect(launched).toEqual({ instanceId: 'i-0aaa', instanceType: 'm7g.large', availabilityZone: 'us-east-1b', market: 'spot' });
    const calls = ec2.commandCalls(RunInstancesCommand);
    expect(calls).toHaveLength(1);
    const tags = [{ Key: 'forgeflow:class', Value: 'default' }, { Key: 'forgeflow:worker-id', Value: 'wrk_01J0000000000000000000000A' }, { Key: 'forgeflow:stack', Value: 'forgeflow-test' }];
    expect(calls[0]!.args[0].input).toEqual({
      LaunchTemplate: { LaunchTemplateId: 'lt-0123456789abcdef0', Version: '$Latest' },
      ImageId: 'ami-0123456789abcdef0',
      InstanceType: 'm7g.large',
      MinCount: 1,
      MaxCount: 1,
      SubnetId: 'subnet-0abc1234',
      ClientToken: 'wrk_01J0000000000000000000000A-1',
      // Basic monitoring unless the class asks for detailed (billed per instance).
      Monitoring: { Enabled: false },
      UserData: Buffer.from('#!/bin/bash\necho wrk_01J0000000000000000000000A default\n').toString('base64'),
      InstanceMarketOptions: { MarketType: 'spot', SpotOptions: { SpotInstanceType: 'one-time', InstanceInterruptionBehavior: 'terminate' } },
      BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeSize: 40, VolumeType: 'gp3', Encrypted: true, DeleteOnTermination: true } }],
      TagSpecifications: [{ ResourceType: 'instance', Tags: tags }, { ResourceType: 'volume', Tags: tags }],
    });
  });

  it('sends no market options on demand, and no subnet when the candidate has none', async () => {
    ec2.on(RunInstancesCommand).resolves({ Instances: [ec2Instance('i-0bbb', { InstanceType: 'm6g.large' })] });

    const launched = await provider().launch(launchRequest({ instanceType: 'm6g.large', market: 'on-demand', subnetId: undefined }));

    expect(launched).toEqual({ instanceId: 'i-0bbb', instanceType: 'm6g.large', availabilityZone: 'us-east-1a', market: 'on-demand' });
    const input = ec2.commandCalls(RunInstancesCommand)[0]!.args[0].input;
    expect(input).not.toHaveProperty('InstanceMarketOptions');
    expect(input).not.toHaveProperty('SubnetId');
    expect(input.InstanceType).toBe('m6g.large');

    ec2.on(RunInstancesCommand).resolves({ Instances: [ec2Instance('i-0ccc')] });
    await provider().launch({ ...launchRequest(), workerClass: { ...workerClass, detailedMonitoring: true } });
    expect(ec2.commandCalls(RunInstancesCommand)[1]!.args[0].input.Monitoring).toEqual({ Enabled: true });
  });

  it.each([
    ['InsufficientInstanceCapacity', 'server', 'We currently do not have sufficient m7g.large capacity in the Availability Zone you requested (us-east-1a). Our system will be working on provisioning additional capacity.', 'INSUFFICIENT_CAPACITY', 'InsufficientCapacity'],
    ['Unsupported', 'client', 'Your requested instance type (m7g.large) is not supported in your requested Availability Zone (us-east-1e).', 'INSUFFICIENT_CAPACITY', 'InsufficientCapacity'],
    ['RequestLimitExceeded', 'client', 'Request limit exceeded.', 'THROTTLED', 'Throttled'],
    ['InvalidAMIID.NotFound', 'client', "The image id '[ami-0123456789abcdef0]' does not exist", 'AMI_NOT_FOUND', 'AmiNotFound'],
    ['VcpuLimitExceeded', 'client', 'You have requested more vCPU capacity than your current vCPU limit of 5 allows for the instance bucket that the specified instance type belongs to.', 'VCPU_QUOTA_EXCEEDED', 'VcpuQuotaExceeded'],
    ['UnauthorizedOperation', 'client', 'You are not authorized to perform this operation. Encoded authorization failure message: abc', 'UNAUTHORIZED', 'Unauthorized'],
    ['InvalidSubnetID.NotFound', 'client', "The subnet ID 'subnet-0abc1234' does not exist", 'INVALID_CONFIGURATION', 'InvalidConfiguration'],
    ['InternalError', 'server', 'An internal error has occurred', 'UNKNOWN', 'ProvisioningFailed'],
  ] as const)('turns %s into a ProvisioningError %s', async (code, fault, message, reason, errorName) => {
    ec2.on(RunInstancesCommand).rejects(ec2Error(code, message, fault));

    const error = await provider().launch(launchRequest()).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ProvisioningError);
    expect(error).toMatchObject({ reason, name: errorName });
    expect((error as Error).message).toContain(code);
    expect((error as Error).message).toContain(message);
    expect((error as Error).cause).toBeInstanceOf(EC2ServiceException);
  });
});

describe('Function: classifyEc2Error', () => {
  it.each([
    ['InsufficientHostCapacity', 'INSUFFICIENT_CAPACITY'],
    ['InsufficientFreeAddressesInSubnet', 'INSUFFICIENT_CAPACITY'],
    ['UnfulfillableCapacity', 'INSUFFICIENT_CAPACITY'],
    ['SpotMaxPriceTooLow', 'INSUFFICIENT_CAPACITY'],
    ['Throttling', 'THROTTLED'],
    ['InstanceLimitExceeded', 'VCPU_QUOTA_EXCEEDED'],
    ['MaxSpotInstanceCountExceeded', 'VCPU_QUOTA_EXCEEDED'],
    ['InvalidAMIID.Malformed', 'AMI_NOT_FOUND'],
    ['InvalidAMIID.Unavailable', 'AMI_NOT_FOUND'],
    ['AccessDeniedException', 'UNAUTHORIZED'],
    ['OptInRequired', 'UNAUTHORIZED'],
    ['InvalidParameterValue', 'INVALID_CONFIGURATION'],
    ['InvalidLaunchTemplateId.VersionNotFound', 'INVALID_CONFIGURATION'],
    ['InvalidLaunchTemplateName.NotFoundException', 'INVALID_CONFIGURATION'],
    ['InvalidGroup.NotFound', 'INVALID_CONFIGURATION'],
    ['IdempotentParameterMismatch', 'INVALID_CONFIGURATION'],
    ['VPCIdNotSpecified', 'INVALID_CONFIGURATION'],
    ['SomethingNew', 'UNKNOWN'],
  ] as const)('%s → %s', (code, reason) => {
    expect(classifyEc2Error(ec2Error(code, 'x'))).toBe(reason);
  });

  it('is UNKNOWN for errors without a code, and keeps the reason of a ProvisioningError', () => {
    expect(classifyEc2Error(new Error('socket hang up'))).toBe('UNKNOWN');
    expect(classifyEc2Error('nope')).toBe('UNKNOWN');
    expect(classifyEc2Error(new ProvisioningError('THROTTLED', 'x'))).toBe('THROTTLED');
  });
});

describe('Method: Ec2WorkerProvider.resolveImage', () => {
  const describedImage = (id: string, created: string, name = 'forgeflow-worker-x') => ({
    ImageId: id, Name: name, CreationDate: created, RootDeviceName: '/dev/xvda', RootDeviceType: 'ebs' as const, State: 'available' as const, Architecture: 'arm64' as const,
  });

  it('describes a fixed image id and reads its root device name', async () => {
    ec2.on(DescribeImagesCommand).resolves({ Images: [{ ...describedImage('ami-0fixed000000000001', '2025-01-01T00:00:00.000Z'), RootDeviceName: '/dev/sda1' }] });

    expect(await provider().resolveImage(workerClass, 'fixed')).toEqual({ amiName: 'fixed', amiId: 'ami-0fixed000000000001', rootDeviceName: '/dev/sda1' });
    expect(ec2.commandCalls(DescribeImagesCommand)[0]!.args[0].input).toEqual({ ImageIds: ['ami-0fixed000000000001'] });
  });

  it('reads an SSM parameter, then describes the image it names', async () => {
    ssm.on(GetParameterCommand).resolves({ Parameter: { Name: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64', Type: 'String', Value: 'ami-0ssm0000000000001', Version: 7 } });
    ec2.on(DescribeImagesCommand, { ImageIds: ['ami-0ssm0000000000001'] }).resolves({ Images: [describedImage('ami-0ssm0000000000001', '2025-05-01T00:00:00.000Z')] });

    expect(await provider().resolveImage(workerClass, 'al2023')).toEqual({ amiName: 'al2023', amiId: 'ami-0ssm0000000000001', rootDeviceName: '/dev/xvda' });
    expect(ssm.commandCalls(GetParameterCommand)[0]!.args[0].input).toEqual({ Name: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64' });
  });

  it('picks the newest available image matching the name pattern and owners', async () => {
    ec2.on(DescribeImagesCommand).resolves({
      Images: [
        describedImage('ami-0old0000000000001', '2025-03-01T08:00:00.000Z'),
        describedImage('ami-0new0000000000001', '2025-06-02T09:30:00.000Z'),
        describedImage('ami-0mid0000000000001', '2025-05-15T12:00:00.000Z'),
      ],
    });

    expect((await provider().resolveImage(workerClass, 'baked')).amiId).toBe('ami-0new0000000000001');
    expect(ec2.commandCalls(DescribeImagesCommand)[0]!.args[0].input).toEqual({
      Owners: ['self'], Filters: [{ Name: 'name', Values: ['forgeflow-worker-*'] }, { Name: 'state', Values: ['available'] }],
    });
  });

  it('caches per class and AMI name until the TTL has passed', async () => {
    let now = 1_700_000_000_000;
    const images = provider(() => now);
    ec2.on(DescribeImagesCommand).resolves({ Images: [describedImage('ami-0fixed000000000001', '2025-01-01T00:00:00.000Z')] });

    await images.resolveImage(workerClass, 'fixed');
    now += 9 * 60_000;
    await images.resolveImage(workerClass, 'fixed');
    expect(ec2.commandCalls(DescribeImagesCommand)).toHaveLength(1);

    now += 2 * 60_000;
    await images.resolveImage(workerClass, 'fixed');
    expect(ec2.commandCalls(DescribeImagesCommand)).toHaveLength(2);
  });

  it('fails AMI_NOT_FOUND for an unknown name, no match, a missing image id and a missing SSM parameter', async () => {
    const p = provider();
    await expect(p.resolveImage(workerClass, 'nope')).rejects.toMatchObject({ reason: 'AMI_NOT_FOUND', message: expect.stringContaining('known: fixed, al2023, baked') });

    ec2.on(DescribeImagesCommand, { Owners: ['self'] }).resolves({ Images: [] });
    await expect(p.resolveImage(workerClass, 'baked')).rejects.toMatchObject({ reason: 'AMI_NOT_FOUND' });

    ec2.on(DescribeImagesCommand, { ImageIds: ['ami-0fixed000000000001'] }).rejects(ec2Error('InvalidAMIID.NotFound', "The image id '[ami-0fixed000000000001]' does not exist"));
    await expect(p.resolveImage(workerClass, 'fixed')).rejects.toMatchObject({ reason: 'AMI_NOT_FOUND', message: expect.stringContaining('InvalidAMIID.NotFound') });

    ssm.on(GetParameterCommand).rejects(new ParameterNotFound({ $metadata: { httpStatusCode: 400 }, message: 'Parameter not found' }));
    await expect(p.resolveImage(workerClass, 'al2023')).rejects.toMatchObject({ reason: 'AMI_NOT_FOUND', message: expect.stringContaining('ParameterNotFound') });
  });
});

describe('Method: Ec2WorkerProvider.terminate', () => {
  it('makes no call for no ids, and chunks by 1000', async () => {
    ec2.on(TerminateInstancesCommand).resolves({ TerminatingInstances: [] });
    await provider().terminate([]);
    expect(ec2.commandCalls(TerminateInstancesCommand)).toHaveLength(0);

    const ids = Array.from({ length: 2500 }, (_, i) => `i-${i.toString(16).padStart(17, '0')}`);
    await provider().terminate(ids);
    expect(ec2.commandCalls(TerminateInstancesCommand).map((c) => c.args[0].input.InstanceIds!.length)).toEqual([1000, 1000, 500]);
  });

  it('retries without the ids EC2 reports missing, so the others are still terminated', async () => {
    ec2
      .on(TerminateInstancesCommand)
      .rejectsOnce(ec2Error('InvalidInstanceID.NotFound', "The instance IDs 'i-0e1e1e1e1e1e1e101, i-0e1e1e1e1e1e1e102' do not exist"))
      .resolves({ TerminatingInstances: [{ InstanceId: 'i-0f2f2f2f2f2f2f201', CurrentState: { Code: 32, Name: 'shutting-down' } }] });

    await provider().terminate(['i-0e1e1e1e1e1e1e101', 'i-0f2f2f2f2f2f2f201', 'i-0e1e1e1e1e1e1e102']);

    const sent = ec2.commandCalls(TerminateInstancesCommand).map((c) => c.args[0].input.InstanceIds);
    expect(sent).toEqual([['i-0e1e1e1e1e1e1e101', 'i-0f2f2f2f2f2f2f201', 'i-0e1e1e1e1e1e1e102'], ['i-0f2f2f2f2f2f2f201']]);
  });

  it('succeeds when every id is gone, and throws a classified error for anything else', async () => {
    ec2.on(TerminateInstancesCommand).rejects(ec2Error('InvalidInstanceID.NotFound', "The instance ID 'i-0e1e1e1e1e1e1e101' does not exist"));
    await provider().terminate(['i-0e1e1e1e1e1e1e101']);
    expect(ec2.commandCalls(TerminateInstancesCommand)).toHaveLength(1);

    ec2.reset();
    ec2.on(TerminateInstancesCommand).rejects(ec2Error('RequestLimitExceeded', 'Request limit exceeded.'));
    await expect(provider().terminate(['i-0f2f2f2f2f2f2f201'])).rejects.toMatchObject({ reason: 'THROTTLED' });
  });
});

describe('Method: Ec2WorkerProvider.listInstances and describe', () => {
  it('pages through the stack instances that are not terminated', async () => {
    ec2
      .on(DescribeInstancesCommand)
      .resolvesOnce({ Reservations: [{ ReservationId: 'r-1', Instances: [ec2Instance('i-0a'), ec2Instance('i-0b', { State: { Code: 0, Name: 'pending' } })] }], NextToken: 'page-2' })
      .resolvesOnce({ Reservations: [{ ReservationId: 'r-2', Instances: [ec2Instance('i-0c', { Tags: [{ Key: 'forgeflow:stack', Value: 'forgeflow-test' }] })] }] });

    const instances = await provider().listInstances();

    expect(instances).toEqual([
      { instanceId: 'i-0a', workerId: 'wrk_i-0a', state: 'running', launchedAt: '2025-06-01T10:00:00.000Z' },
      { instanceId: 'i-0b', workerId: 'wrk_i-0b', state: 'pending', launchedAt: '2025-06-01T10:00:00.000Z' },
      { instanceId: 'i-0c', state: 'running', launchedAt: '2025-06-01T10:00:00.000Z' },
    ]);
    const inputs = ec2.commandCalls(DescribeInstancesCommand).map((c) => c.args[0].input);
    const Filters = [
      { Name: 'tag:forgeflow:stack', Values: ['forgeflow-test'] },
      { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped', 'shutting-down'] },
    ];
    expect(inputs).toEqual([{ Filters, MaxResults: 1000 }, { Filters, MaxResults: 1000, NextToken: 'page-2' }]);
  });

  it('describes one instance, terminated included, and answers undefined for an unknown one', async () => {
    ec2.on(DescribeInstancesCommand, { InstanceIds: ['i-0dead'] }).resolves({ Reservations: [{ Instances: [ec2Instance('i-0dead', { State: { Code: 48, Name: 'terminated' } })] }] });
    ec2.on(DescribeInstancesCommand, { InstanceIds: ['i-0000000000000000b'] }).rejects(ec2Error('InvalidInstanceID.NotFound', "The instance ID 'i-0000000000000000b' does not exist"));
    ec2.on(DescribeInstancesCommand, { InstanceIds: ['i-0000000000000000c'] }).resolves({ Reservations: [] });

    expect(await provider().describe('i-0dead')).toMatchObject({ instanceId: 'i-0dead', state: 'terminated', workerId: 'wrk_i-0dead' });
    expect(await provider().describe('i-0000000000000000b')).toBeUndefined();
    expect(await provider().describe('i-0000000000000000c')).toBeUndefined();
  });
});

describe('Function: createEc2Clients', () => {
  it('builds clients, on first use, that make a single attempt per call', async () => {
    const clients = createEc2Clients('eu-west-1');
    const ec2 = asLazyEc2(clients.ec2);
    const ssm = asLazySsm(clients.ssm);
    expect(await ec2.use(async (client) => client.config.maxAttempts())).toBe(1);
    expect(await ssm.use(async (client) => client.config.maxAttempts())).toBe(1);
    expect(await ec2.use(async (client) => client.config.region())).toBe('eu-west-1');
    // One client per lazy handle, however many calls.
    expect(await ec2.use(async (a) => ec2.use(async (b) => a === b))).toBe(true);
  });
});

describe('The launch walk over the EC2 adapter (launchWithFallback + Ec2WorkerProvider)', () => {
  const request = { workerId: 'w-01m8nrv99xatwktdbcaaanvhja', workerClass, image };

  it('InsufficientInstanceCapacity falls through to the next type; the instance comes from the one with capacity', async () => {
    ec2
      .on(RunInstancesCommand)
      .rejectsOnce(ec2Error('InsufficientInstanceCapacity', 'We currently do not have sufficient m7g.large capacity in the Availability Zone you requested (us-east-1a).', 'server'))
      .resolves({ Instances: [ec2Instance('i-0bbb', { InstanceType: 'm6g.large', InstanceLifecycle: 'spot' })] });
    const { instance, attempts } = await launchWithFallback(request, launchCandidates(workerClass), { provider: provider() });
    expect(instance).toMatchObject({ instanceId: 'i-0bbb', instanceType: 'm6g.large', market: 'spot' });
    expect(attempts).toBe(2);
    const calls = ec2.commandCalls(RunInstancesCommand).map((c) => [c.args[0].input.InstanceType, c.args[0].input.ClientToken]);
    expect(calls).toEqual([
      ['m7g.large', `${request.workerId}-0`],
      ['m6g.large', `${request.workerId}-1`],
    ]);
  });

  it('RequestLimitExceeded ends the walk as Throttled (the state machine backs off): one call, no retry storm', async () => {
    ec2.on(RunInstancesCommand).rejects(ec2Error('RequestLimitExceeded', 'Request limit exceeded.'));
    const error = await launchWithFallback(request, launchCandidates(workerClass), { provider: provider() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProvisioningError);
    expect(error).toMatchObject({ reason: 'THROTTLED', name: 'Throttled' });
    expect(ec2.commandCalls(RunInstancesCommand)).toHaveLength(1);
  });

  it('VcpuLimitExceeded on spot moves on to on-demand; refused everywhere it fails VCPU_QUOTA_EXCEEDED, not retryable', async () => {
    ec2.on(RunInstancesCommand).rejects(ec2Error('VcpuLimitExceeded', 'You have requested more vCPU capacity than your current vCPU limit of 5 allows.'));
    const error = await launchWithFallback(request, launchCandidates(workerClass), { provider: provider() }).catch((e: unknown) => e);
    expect(error).toMatchObject({ reason: 'VCPU_QUOTA_EXCEEDED', retryable: false });
    expect(ec2.commandCalls(RunInstancesCommand).map((c) => c.args[0].input.InstanceMarketOptions?.MarketType ?? 'on-demand')).toEqual(['spot', 'on-demand']);
  });

  it.each([
    ['InvalidAMIID.NotFound', 'AMI_NOT_FOUND', 'AmiNotFound'],
    ['UnauthorizedOperation', 'UNAUTHORIZED', 'Unauthorized'],
  ])('%s ends the walk at once as %s', async (code, reason, name) => {
    ec2.on(RunInstancesCommand).rejects(ec2Error(code, `${code} from EC2`));
    const error = await launchWithFallback(request, launchCandidates(workerClass), { provider: provider() }).catch((e: unknown) => e);
    expect(error).toMatchObject({ reason, name });
    expect(ec2.commandCalls(RunInstancesCommand)).toHaveLength(1);
  });
});
