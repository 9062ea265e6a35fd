import { describe, expect, it } from 'vitest';
import { createWorkerControl } from '../../functions/fleet/worker-control.ts';
import { fleetFixture } from './fakes.ts';

const quiet = { warn: () => {}, error: () => {} };

describe('worker-control: the agents’ only way into the control plane', () => {
  it('answers every request with data: invalid requests, refused identities and "try again" are told apart', async () => {
    const f = await fleetFixture();
    const control = createWorkerControl(f.fleet.agents, quiet);
    const worker = await f.fleet.provisioning.create({ workerClass: 'default', requestedBy: 'test', correlationId: 'c' }, {});
    const identity = { workerId: worker.workerId, instanceId: 'i-0123456789abcdef0', agentVersion: '0.2.0' };

    expect(await control({ action: 'register' })).toMatchObject({ ok: false, code: 'INVALID_REQUEST', retryable: false });
    expect(await control({ action: 'register', identity: { ...identity, instanceId: 'not-an-instance' } })).toMatchObject({ ok: false, code: 'INVALID_REQUEST' });
    // An instance EC2 does not know (yet: Describe is eventually consistent) is worth another try.
    expect(await control({ action: 'register', identity })).toMatchObject({ ok: false, code: 'TRY_AGAIN', retryable: true });

    await f.fleet.provisioning.launch({ workerId: worker.workerId });
    const booting = (await f.store.get(worker.workerId))!;
    const real = { ...identity, instanceId: booting.instanceId! };
    expect(await control({ action: 'register', identity: real })).toMatchObject({ ok: true, instruction: { directive: 'continue' } });
    expect((await f.store.get(worker.workerId))!.registeredAt).toBeDefined();
    // An instance that carries another worker's tag is refused for good.
    expect(await control({ action: 'register', identity: { ...real, workerId: (await f.fleet.provisioning.create({ workerClass: 'default', requestedBy: 't', correlationId: 'c' }, {})).workerId } })).toMatchObject({
      ok: false,
      code: 'IDENTITY_REJECTED',
      retryable: false,
    });
    expect(await control({ action: 'heartbeat', identity: { ...real, workerId: 'w-01m8nrv99xatwktdbcaaanvhja' }, runningJobIds: [] })).toMatchObject({ ok: false, code: 'WORKER_NOT_FOUND', retryable: false });
  });
});
