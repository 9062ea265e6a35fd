import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeExecutionCommand, ExecutionDoesNotExist, SendTaskSuccessCommand, SFNClient, StartExecutionCommand, StopExecutionCommand, TaskTimedOut } from '@aws-sdk/client-sfn';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { CloudWatchInstanceMetrics } from '../../functions/adapters/cloudwatch/instance-metrics.ts';
import { lazyCloudWatch, lazySfn, lazySqs } from '../../functions/adapters/lazy-clients.ts';
import { SqsQueueDepth } from '../../functions/adapters/sqs/queue-depth.ts';
import { StepFunctionsProvisioningRunner } from '../../functions/adapters/stepfunctions/provisioning-runner.ts';
import { SfnSagaExecutions } from '../../functions/adapters/stepfunctions/saga-executions.ts';
import { PRIORITIES } from '../../functions/core/priority.ts';

const ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:forgeflow-test';
const meta = { $metadata: {} };

/**
 * The adapters the fleet and the reconciler make on first use (decision 0019): a client imported on the first call
 * answers as one made at init, and the SDK's errors are still told apart by the classes of the module it loaded.
 */
describe('SDK adapters over a client made on first use', () => {
  const sfn = mockClient(SFNClient);
  const sqs = mockClient(SQSClient);
  const cloudWatch = mockClient(CloudWatchClient);
  beforeEach(() => [sfn, sqs, cloudWatch].forEach((mock) => mock.reset()));
  // Test files share a process (the unit project does not isolate them): the stubs must not outlive this file.
  afterAll(() => [sfn, sqs, cloudWatch].forEach((mock) => mock.restore()));

  it('provisioning runner: starts once by name, and takes a registration the saga no longer waits for as answered', async () => {
    const runner = new StepFunctionsProvisioningRunner(lazySfn({}), ARN);
    sfn.on(StartExecutionCommand).resolves({ executionArn: `${ARN}:w-1`, startDate: new Date() });
    await runner.start('w-1');
    expect(sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input).toMatchObject({ stateMachineArn: ARN, name: 'w-1', input: '{"workerId":"w-1"}' });

    sfn.on(SendTaskSuccessCommand).rejectsOnce(new TaskTimedOut({ message: 'timed out', ...meta })).rejectsOnce(new Error('network down'));
    await expect(runner.registrationSucceeded('token', { workerId: 'w-1', agentVersion: '1.0.0' })).resolves.toBeUndefined();
    await expect(runner.registrationSucceeded('token', { workerId: 'w-1', agentVersion: '1.0.0' })).rejects.toThrow('network down');
  });

  it('saga executions: an execution that does not exist is GONE, and stopping it is a no-op', async () => {
    const executions = new SfnSagaExecutions(lazySfn({}), ARN);
    sfn.on(DescribeExecutionCommand).rejects(new ExecutionDoesNotExist({ message: 'no such execution', ...meta }));
    sfn.on(StopExecutionCommand).rejects(new ExecutionDoesNotExist({ message: 'no such execution', ...meta }));
    await expect(executions.describe('job-1-1')).resolves.toEqual({ name: 'job-1-1', status: 'GONE' });
    await expect(executions.stop('job-1-1', 'Overdue', 'late')).resolves.toBeUndefined();
  });

  it('queue depth: sums the class queues of every priority through one client', async () => {
    sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '2', ApproximateNumberOfMessagesDelayed: '1', ApproximateNumberOfMessagesNotVisible: '3' } });
    const depth = await new SqsQueueDepth(lazySqs({}), (envVar) => `https://sqs.us-east-1.amazonaws.com/000000000000/${envVar}`).depth('standard');
    expect(sqs.commandCalls(GetQueueAttributesCommand)).toHaveLength(PRIORITIES.length);
    expect(depth).toEqual({ waiting: 3 * PRIORITIES.length, inFlight: 3 * PRIORITIES.length });
  });

  it('CloudWatch metrics: a failed call fails its instances, not the read', async () => {
    cloudWatch.on(GetMetricDataCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const results = await new CloudWatchInstanceMetrics(lazyCloudWatch({})).read([{ instanceId: 'i-0123456789abcdef0', periodSeconds: 60 }], new Date());
    expect(results.get('i-0123456789abcdef0')).toEqual({ ok: false, error: { code: 'ThrottlingException', message: 'Rate exceeded' } });
  });
});
