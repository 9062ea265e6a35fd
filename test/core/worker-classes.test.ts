import { describe, expect, it } from 'vitest';
import { activeDelta, canWorkerTransition, WORKER_STATES, WORKER_TRANSITIONS } from '../../functions/core/fleet/worker-state.ts';
import { resolveWorkerClass, validateWorkerClasses, WORKER_CLASS_DEFINITIONS, type WorkerClassDefinition } from '../../functions/declarations/worker-classes.ts';

const base: WorkerClassDefinition = {
  name: 'gpu',
  instanceTypes: ['g5.xlarge'],
  market: 'on-demand',
  amis: { baked: { namePattern: 'gpu-*', owners: ['self'] } },
  defaultAmi: 'baked',
  maxWorkers: 2,
  slotsPerWorker: 1,
};

describe('Worker classes', () => {
  it('the declared classes are valid', () => {
    expect(() => validateWorkerClasses(WORKER_CLASS_DEFINITIONS)).not.toThrow();
  });

  it.each([
    [{ minWorkers: 5 }, 'Worker class "gpu": minWorkers (5) is more than maxWorkers (2).'],
    [{ defaultAmi: 'al2' }, 'Worker class "gpu": defaultAmi "al2" is not one of its amis (baked).'],
    [{ instanceTypes: [] }, 'Worker class "gpu": instanceTypes needs at least one instance type.'],
    [{ subnetIds: ['sn-1'] }, 'Worker class "gpu": subnetIds.0 a subnet id looks like subnet-0123abcd.'],
    [{ bootDeadlineSeconds: 3600, maxLifetimeSeconds: 3000 }, 'Worker class "gpu": maxLifetimeSeconds (3000) must be longer than bootDeadlineSeconds (3600).'],
    [{ name: 'GPU' }, 'Worker class "GPU": name is 1-32 lowercase letters, digits or dashes.'],
  ] as const)('a bad setting fails with one sentence: %o', (override, message) => {
    expect(() => validateWorkerClasses([{ ...base, ...override } as WorkerClassDefinition])).toThrow(message);
  });

  it('refuses a class declared twice', () => {
    expect(() => validateWorkerClasses([base, base])).toThrow('Worker class "gpu" is declared twice.');
  });

  it('the minimum defaults to 0 in AWS and 1 locally; the rest to the documented defaults', () => {
    expect(resolveWorkerClass(base, 'aws')).toMatchObject({ minWorkers: 0, idleTimeoutSeconds: 300, bootDeadlineSeconds: 600, maxLifetimeSeconds: 86_400 });
    expect(resolveWorkerClass(base, 'local').minWorkers).toBe(1);
    expect(resolveWorkerClass({ ...base, minWorkers: 2 }, 'local').minWorkers).toBe(2);
  });
});

describe('Worker states', () => {
  it('ended states are final and every state is in the table', () => {
    expect(Object.keys(WORKER_TRANSITIONS).sort()).toEqual([...WORKER_STATES].sort());
    expect(WORKER_TRANSITIONS.TERMINATED).toEqual([]);
    expect(WORKER_TRANSITIONS.FAILED).toEqual([]);
    expect(canWorkerTransition('READY', 'PROVISIONING')).toBe(false);
    expect(canWorkerTransition('DRAINING', 'READY')).toBe(false);
  });

  it('counts a worker active from PROVISIONING to READY, and no longer once it drains or ends', () => {
    expect(activeDelta(null, 'PROVISIONING')).toBe(1);
    expect(activeDelta('BOOTING', 'READY')).toBe(0);
    expect(activeDelta('READY', 'DRAINING')).toBe(-1);
    expect(activeDelta('DRAINING', 'TERMINATED')).toBe(0);
    expect(activeDelta('BOOTING', 'FAILED')).toBe(-1);
  });
});
