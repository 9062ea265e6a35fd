import { readFileSync } from 'node:fs';
import { beforeEach, describe, expect, it } from 'vitest';
import { PROVISION_WORKER } from '../../functions/declarations/statemachines.ts';
import { createProvisionSteps } from '../../functions/fleet/steps.ts';
import { LocalStepFunctionsEngine } from '../../local/stepfunctions/engine.ts';
import { localStateMachineArn, type AslDefinition } from '../../local/stepfunctions/local-definition.ts';
import { fleetFixture, identityOf, TEST_CLASS, type FleetFixture } from './fakes.ts';

const ARN = localStateMachineArn(PROVISION_WORKER.name);
const definition = JSON.parse(readFileSync(PROVISION_WORKER.definitionPath, 'utf8')) as AslDefinition;

/**
 * The real provisioning ASL on the local engine, per path, with the real steps over DynamoDB Local and a fake EC2.
 * Registration answers go through the engine's task token registry, as the local Step Functions endpoint does.
 */
describe('Provisioning saga paths (statemachines/provision-worker.asl.json)', () => {
  let f: FleetFixture;
  let engine: LocalStepFunctionsEngine;

  const setUp = async (bootDeadlineSeconds = 600) => {
    f = await fleetFixture({ classes: [{ ...TEST_CLASS, bootDeadlineSeconds }] });
    engine = new LocalStepFunctionsEngine({
      stateMachines: [{ arn: ARN, definition, handlers: createProvisionSteps(f.fleet) }],
      sendMessage: async () => {
        throw new Error('the provisioning saga sends no SQS message');
      },
      retryIntervalOverrides: { Launch: 0, TerminateInstance: 0, RecordFailed: 0 },
    });
    f.runner.onStart = async (workerId) => {
      await engine.startExecution({ stateMachineArn: ARN, name: workerId, input: JSON.stringify({ workerId }) });
    };
    f.runner.onAnswer = async (token, output) => engine.registry.succeed(token, output);
  };

  const launchOne = async () => {
    const worker = await f.fleet.provisioning.create({ workerClass: 'default', requestedBy: 'test', correlationId: 'c' }, {});
    await f.fleet.provisioning.start(worker);
    return { worker, executionArn: ARN.replace(':stateMachine:', ':execution:') + `:${worker.workerId}` };
  };

  /** The agent side of registration, once the instance is recorded. */
  const registerWhenBooting = async (workerId: string) => {
    await engine.waitForState(ARN.replace(':stateMachine:', ':execution:') + `:${workerId}`, 'AwaitAgent');
    const booting = (await f.store.get(workerId))!;
    return f.fleet.agents.register(identityOf(booting));
  };

  beforeEach(async () => setUp());

  it('happy path: PROVISIONING → BOOTING → READY in 4 transitions, the agent answering the token', async () => {
    const { worker, executionArn } = await launchOne();
    await registerWhenBooting(worker.workerId);
    const done = await engine.waitForExecution(executionArn);
    expect(done.status).toBe('SUCCEEDED');
    const history = engine.history(executionArn);
    expect(history.enteredStates).toEqual(['RecordProvisioning', 'Launch', 'AwaitAgent', 'RecordReady']);
    expect(history.transitions).toBeLessThanOrEqual(6);
    const ready = (await f.store.get(worker.workerId))!;
    expect(ready).toMatchObject({ state: 'READY', instanceType: 'm7g.large', market: 'spot', amiName: 'al2023', amiId: 'ami-0123456789abcdef0', agentVersion: '1.0.0' });
    expect(ready.registrationToken).toBeUndefined();
    expect(await f.store.activeCount('default')).toBe(1);
  });

  it('the agent registering before the saga waits: the saga answers its own token', async () => {
    f.runner.onStart = async () => undefined;
    const { worker, executionArn } = await launchOne();
    await f.fleet.provisioning.launch({ workerId: worker.workerId });
    await f.fleet.agents.register(identityOf((await f.store.get(worker.workerId))!));
    // Now the saga runs: Launch finds the instance recorded, AwaitAgent finds the registration.
    await engine.startExecution({ stateMachineArn: ARN, name: worker.workerId, input: JSON.stringify({ workerId: worker.workerId }) });
    expect((await engine.waitForExecution(executionArn)).status).toBe('SUCCEEDED');
    expect((await f.store.get(worker.workerId))!.state).toBe('READY');
    expect(f.provider.launches).toHaveLength(1);
  });

  it('capacity fallback: no spot capacity for the first type, launched on the next', async () => {
    f.provider.script.push('INSUFFICIENT_CAPACITY');
    const { worker, executionArn } = await launchOne();
    await registerWhenBooting(worker.workerId);
    expect((await engine.waitForExecution(executionArn)).status).toBe('SUCCEEDED');
    expect(f.provider.launches.map((l) => `${l.candidate.instanceType}/${l.candidate.market}`)).toEqual(['m7g.large/spot', 'm6g.large/spot']);
    expect(new Set(f.provider.launches.map((l) => l.clientToken)).size).toBe(2);
    expect((await f.store.get(worker.workerId))!.instanceType).toBe('m6g.large');
  });

  it('all capacity exhausted: FAILED with INSUFFICIENT_CAPACITY after every type in every market, nothing left running', async () => {
    f.provider.script.push('INSUFFICIENT_CAPACITY', 'INSUFFICIENT_CAPACITY', 'INSUFFICIENT_CAPACITY', 'INSUFFICIENT_CAPACITY');
    const { worker, executionArn } = await launchOne();
    const done = await engine.waitForExecution(executionArn);
    expect(done.status).toBe('FAILED');
    expect(engine.history(executionArn).enteredStates).toEqual(['RecordProvisioning', 'Launch', 'TerminateInstance', 'RecordFailed', 'ProvisioningFailed']);
    expect(f.provider.launches.map((l) => `${l.candidate.instanceType}/${l.candidate.market}`)).toEqual([
      'm7g.large/spot',
      'm6g.large/spot',
      'm7g.large/on-demand',
      'm6g.large/on-demand',
    ]);
    const failed = (await f.store.get(worker.workerId))!;
    expect(failed.state).toBe('FAILED');
    expect(failed.failure).toMatchObject({ reason: 'INSUFFICIENT_CAPACITY', retryable: true });
    expect(failed.failure!.suggestedActions.length).toBeGreaterThan(0);
    expect(await f.store.activeCount('default')).toBe(0);
  });

  it('throttled, then launched: Launch is retried by the state machine, not by a storm of calls', async () => {
    f.provider.script.push('THROTTLED', 'THROTTLED');
    const { worker, executionArn } = await launchOne();
    await registerWhenBooting(worker.workerId);
    expect((await engine.waitForExecution(executionArn)).status).toBe('SUCCEEDED');
    const history = engine.history(executionArn);
    expect(history.events.filter((e) => e.type === 'StateRetried' && e.state === 'Launch')).toHaveLength(2);
    // One call per state attempt: the throttled calls were not repeated inside the step.
    expect(f.provider.launches).toHaveLength(3);
  });

  it('the agent never registers: the instance is terminated and the worker FAILED (AGENT_NEVER_REGISTERED)', async () => {
    await setUp(1);
    const { worker, executionArn } = await launchOne();
    expect((await engine.waitForExecution(executionArn)).status).toBe('FAILED');
    expect(engine.history(executionArn).enteredStates).toEqual(['RecordProvisioning', 'Launch', 'AwaitAgent', 'TerminateInstance', 'RecordFailed', 'ProvisioningFailed']);
    const failed = (await f.store.get(worker.workerId))!;
    expect(failed.state).toBe('FAILED');
    expect(failed.failure!.reason).toBe('AGENT_NEVER_REGISTERED');
    expect(f.provider.terminated).toEqual([failed.instanceId]);
  });

  it('an unknown AMI fails at once, non-retryable, without launching', async () => {
    const worker = await f.fleet.provisioning.create({ workerClass: 'default', amiName: 'missing', requestedBy: 'test', correlationId: 'c' }, {});
    await f.fleet.provisioning.start(worker);
    const executionArn = ARN.replace(':stateMachine:', ':execution:') + `:${worker.workerId}`;
    expect((await engine.waitForExecution(executionArn)).status).toBe('FAILED');
    expect((await f.store.get(worker.workerId))!.failure).toMatchObject({ reason: 'AMI_NOT_FOUND', retryable: false });
    expect(f.provider.launches).toHaveLength(0);
  });

  it('a duplicate start is harmless: one execution, one instance', async () => {
    const { worker, executionArn } = await launchOne();
    await f.fleet.provisioning.start(worker);
    await f.fleet.provisioning.start(worker);
    await registerWhenBooting(worker.workerId);
    expect((await engine.waitForExecution(executionArn)).status).toBe('SUCCEEDED');
    expect(f.provider.launches).toHaveLength(1);
    // A second execution under another name finds nothing to do and undoes nothing.
    await engine.startExecution({ stateMachineArn: ARN, name: `${worker.workerId}-again`, input: JSON.stringify({ workerId: worker.workerId }) });
    const again = await engine.waitForExecution(`${executionArn}-again`);
    expect(again.status).toBe('SUCCEEDED');
    expect(engine.history(`${executionArn}-again`).enteredStates).toEqual(['RecordProvisioning', 'NothingToDo']);
    expect(f.provider.terminated).toHaveLength(0);
    expect((await f.store.get(worker.workerId))!.state).toBe('READY');
  });
});
