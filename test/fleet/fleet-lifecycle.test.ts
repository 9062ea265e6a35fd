import { beforeEach, describe, expect, it } from 'vitest';
import { desiredWorkers } from '../../functions/core/fleet/scaler.ts';
import type { WorkerRecord } from '../../functions/core/fleet/worker.ts';
import { fleetFixture, identityOf, TEST_CLASS, type FleetFixture } from './fakes.ts';

/** Drives a worker to READY without a state machine: the steps in order, as the saga runs them. */
async function readyWorker(f: FleetFixture): Promise<WorkerRecord> {
  const active = await f.store.activeCount('default');
  const created = await f.fleet.provisioning.create({ workerClass: 'default', requestedBy: 'test', correlationId: 'c' }, { expectActive: active });
  await f.fleet.provisioning.launch({ workerId: created.workerId });
  await f.fleet.provisioning.awaitAgent({ workerId: created.workerId, taskToken: 'token' });
  await f.fleet.provisioning.recordReady({ workerId: created.workerId, agentVersion: '1.0.0' });
  return (await f.store.get(created.workerId))!;
}

describe('Scaler', () => {
  let f: FleetFixture;
  beforeEach(async () => {
    f = await fleetFixture();
  });

  it('computes desired = clamp(ceil((queued + running) / slots), min, max)', () => {
    expect(desiredWorkers(0, 4, 0, 10)).toBe(0);
    expect(desiredWorkers(1, 4, 0, 10)).toBe(1);
    expect(desiredWorkers(9, 4, 0, 10)).toBe(3);
    expect(desiredWorkers(1000, 4, 0, 10)).toBe(10);
    expect(desiredWorkers(0, 4, 2, 10)).toBe(2);
  });

  it('launches the deficit once, and never beyond max, through the provisioning saga', async () => {
    f.depth.waiting = 1000;
    const decision = await f.fleet.scaler!.reconcile('default', 'c');
    expect(decision).toMatchObject({ desired: 3, activeBefore: 0 });
    expect(decision.launched).toHaveLength(3);
    expect(f.runner.started).toEqual(decision.launched);
    const again = await f.fleet.scaler!.reconcile('default', 'c');
    expect(again.launched).toHaveLength(0);
    expect(await f.store.activeCount('default')).toBe(3);
  });

  it('two scalers at once (schedule and nudge) fill the deficit once between them', async () => {
    f.depth.waiting = 9; // 3 workers
    const [a, b, c] = await Promise.all([1, 2, 3].map(() => f.fleet.scaler!.reconcile('default', 'c')));
    expect(a!.launched.length + b!.launched.length + c!.launched.length).toBe(3);
    expect(await f.store.activeCount('default')).toBe(3);
    const { items } = await f.store.list({ class: 'default', state: 'PROVISIONING', limit: 10 });
    expect(items).toHaveLength(3);
  });

  it('backs off a class whose launches keep failing, longer after each failure, and resets once one reaches READY', async () => {
    f.depth.waiting = 1;
    const failOne = async () => {
      const [workerId] = (await f.fleet.scaler!.reconcile('default', 'c')).launched;
      f.provider.script.push('INSUFFICIENT_CAPACITY', 'INSUFFICIENT_CAPACITY', 'INSUFFICIENT_CAPACITY', 'INSUFFICIENT_CAPACITY');
      await expect(f.fleet.provisioning.launch({ workerId: workerId! })).rejects.toMatchObject({ reason: 'INSUFFICIENT_CAPACITY' });
      await f.fleet.provisioning.recordFailed({ workerId: workerId!, error: { Error: 'InsufficientCapacity', Cause: 'none' } });
    };
    await failOne();
    expect(await f.store.fleetStatus('default')).toMatchObject({ active: 0, consecutiveFailures: 1 });
    const waiting = await f.fleet.scaler!.reconcile('default', 'c');
    expect(waiting.launched).toEqual([]);
    expect(Date.parse(waiting.backingOffUntil!) - f.clock.now().getTime()).toBe(60_000);
    f.clock.advance(61);
    await failOne();
    expect(Date.parse((await f.fleet.scaler!.reconcile('default', 'c')).backingOffUntil!) - f.clock.now().getTime()).toBe(120_000);
    f.clock.advance(121);
    const [workerId] = (await f.fleet.scaler!.reconcile('default', 'c')).launched;
    await f.fleet.provisioning.launch({ workerId: workerId! });
    await f.fleet.provisioning.recordReady({ workerId: workerId! });
    expect(await f.store.fleetStatus('default')).toMatchObject({ active: 1, consecutiveFailures: 0 });
  });

  it('never scales in: with no demand it launches nothing and stops nobody', async () => {
    const worker = await readyWorker(f);
    f.depth.waiting = 0;
    const decision = await f.fleet.scaler!.reconcile('default', 'c');
    expect(decision.launched).toEqual([]);
    expect((await f.store.get(worker.workerId))!.state).toBe('READY');
    expect(f.provider.terminated).toEqual([]);
  });
});

describe('Scale-in handshake', () => {
  it('an idle agent drains itself; the class minimum holds even when two ask at once', async () => {
    const f = await fleetFixture({ classes: [{ ...TEST_CLASS, minWorkers: 1 }] });
    const one = await readyWorker(f);
    const two = await readyWorker(f);
    const answers = await Promise.all([f.fleet.agents.requestDrain(identityOf(one)), f.fleet.agents.requestDrain(identityOf(two))]);
    expect(answers.filter((a) => a.granted)).toHaveLength(1);
    expect(answers.find((a) => a.granted)!.instruction.directive).toBe('drain');
    expect(answers.find((a) => !a.granted)!.instruction.directive).toBe('continue');
    expect(await f.store.activeCount('default')).toBe(1);

    const drained = answers[0]!.granted ? one : two;
    const ended = await f.fleet.agents.goodbye(identityOf(drained));
    expect(ended).toMatchObject({ state: 'TERMINATED', termination: { reason: 'IDLE' } });
    expect(f.provider.terminated).toEqual([drained.instanceId]);
  });

  it('refuses an identity that does not match the worker or its instance', async () => {
    const f = await fleetFixture();
    const worker = await readyWorker(f);
    await expect(f.fleet.agents.requestDrain({ ...identityOf(worker), instanceId: 'i-00000000000000bad' })).rejects.toThrow(/does not run on/);
    await expect(f.fleet.agents.heartbeat({ ...identityOf(worker), instanceId: 'i-00000000000000bad' }, { jobIds: [] })).rejects.toThrow(/does not run on/);
  });

  it('heartbeats record what the agent runs and answer with its directive', async () => {
    const f = await fleetFixture();
    const worker = await readyWorker(f);
    f.clock.advance(30);
    const instruction = await f.fleet.agents.heartbeat(identityOf(worker), { jobIds: ['job_1', 'job_2'] });
    expect(instruction).toMatchObject({ directive: 'continue', heartbeatIntervalSeconds: 30 });
    expect(await f.store.get(worker.workerId)).toMatchObject({ runningJobs: 2, runningJobIds: ['job_1', 'job_2'], lastHeartbeatAt: f.clock.now().toISOString(), version: worker.version });
  });
});

describe('Reaper', () => {
  let f: FleetFixture;
  beforeEach(async () => {
    f = await fleetFixture();
  });

  it('terminates orphans: untagged-for-a-worker, ended workers, and a second instance of one worker', async () => {
    const worker = await readyWorker(f);
    f.provider.instances.set('i-0000000000000000a', { instanceId: 'i-0000000000000000a', state: 'running', launchedAt: f.clock.now().toISOString() });
    f.provider.instances.set('i-0000000000000000b', { instanceId: 'i-0000000000000000b', workerId: worker.workerId, state: 'running', launchedAt: f.clock.now().toISOString() });
    f.provider.instances.set('i-0000000000000000c', { instanceId: 'i-0000000000000000c', workerId: 'w-01jdoesnotexist0000000000', state: 'running', launchedAt: f.clock.now().toISOString() });
    const report = await f.fleet.reaper.sweep();
    expect(report.orphansTerminated.sort()).toEqual(['i-0000000000000000a', 'i-0000000000000000b', 'i-0000000000000000c']);
    expect(f.provider.instances.get(worker.instanceId!)!.state).toBe('running');
  });

  it('a READY worker whose heartbeats stopped is terminated as LOST and its jobs handed back', async () => {
    const released: { workerId: string; jobIds: readonly string[] }[] = [];
    f = await fleetFixture({ releaser: { releaseJobs: async (workerId, jobIds) => void released.push({ workerId, jobIds }) } });
    const worker = await readyWorker(f);
    await f.fleet.agents.heartbeat(identityOf(worker), { jobIds: ['job_a'] });
    f.clock.advance(4 * 30 - 1);
    expect((await f.fleet.reaper.sweep()).lost).toEqual([]);
    f.clock.advance(2);
    expect((await f.fleet.reaper.sweep()).lost).toEqual([worker.workerId]);
    expect(await f.store.get(worker.workerId)).toMatchObject({ state: 'TERMINATED', termination: { reason: 'LOST' }, runningJobs: 0 });
    expect(released).toEqual([{ workerId: worker.workerId, jobIds: ['job_a'] }]);
    expect(f.provider.terminated).toEqual([worker.instanceId]);
  });

  it('fails a worker stuck past its boot deadline (AGENT_NEVER_REGISTERED) and terminates its instance', async () => {
    const created = await f.fleet.provisioning.create({ workerClass: 'default', requestedBy: 'test', correlationId: 'c' }, {});
    await f.fleet.provisioning.launch({ workerId: created.workerId });
    f.clock.advance(600 + 121);
    const report = await f.fleet.reaper.sweep();
    expect(report.neverRegistered).toEqual([created.workerId]);
    const failed = (await f.store.get(created.workerId))!;
    expect(failed).toMatchObject({ state: 'FAILED', failure: { reason: 'AGENT_NEVER_REGISTERED' } });
    expect(f.provider.terminated).toEqual([failed.instanceId]);
    expect(await f.store.activeCount('default')).toBe(0);
  });

  it('restarts the saga of a worker left PROVISIONING (its start failed)', async () => {
    const created = await f.fleet.provisioning.create({ workerClass: 'default', requestedBy: 'test', correlationId: 'c' }, {});
    f.clock.advance(61);
    expect((await f.fleet.reaper.sweep()).sagasRestarted).toEqual([created.workerId]);
    expect(f.runner.started).toEqual([created.workerId]);
  });

  it('drains a worker past its maximum lifetime, never killing it', async () => {
    const worker = await readyWorker(f);
    for (let hour = 0; hour < 24; hour++) {
      f.clock.advance(3600);
      await f.fleet.agents.heartbeat(identityOf(worker), { jobIds: ['job_long'] });
    }
    f.clock.advance(10);
    const report = await f.fleet.reaper.sweep();
    expect(report.retired).toEqual([worker.workerId]);
    expect(await f.store.get(worker.workerId)).toMatchObject({ state: 'DRAINING', directive: 'drain', termination: { reason: 'MAX_LIFETIME' } });
    expect(f.provider.terminated).toEqual([]);
  });
});

describe('Spot interruption', () => {
  it('drains the worker with RELEASE so its agent gives the jobs back at once', async () => {
    const f = await fleetFixture();
    const worker = await readyWorker(f);
    const drained = await f.fleet.spotInterrupted(worker.instanceId!);
    expect(drained).toMatchObject({ state: 'DRAINING', directive: 'release', termination: { reason: 'SPOT_INTERRUPTED' } });
    expect((await f.fleet.agents.heartbeat(identityOf(worker), { jobIds: ['job_x'] })).directive).toBe('release');
    expect(await f.fleet.spotInterrupted('i-0000000000000dead')).toBeUndefined();
  });
});
