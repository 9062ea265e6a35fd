import { describe, expect, it } from 'vitest';
import type { JobRecord } from '../../functions/core/job.ts';
import type { WorkerReport } from '../../functions/core/saga-messages.ts';
import { createWorkerControl, type JobStarts } from '../../functions/fleet/worker-control.ts';
import { fleetFixture } from './fakes.ts';

const quiet = { warn: () => {}, error: () => {} };
/** The saga's answer to a start report: the job as recordRunning leaves it. */
const jobsAnswering = (job: (report: WorkerReport) => Partial<JobRecord>): JobStarts & { reports: WorkerReport[] } => {
  const reports: WorkerReport[] = [];
  return { reports, recordRunning: async (report) => (reports.push(report), { run: report.run, attempts: report.attempt, taskToken: report.taskToken, workerId: report.workerId, status: 'RUNNING', cancelRequested: false, ...job(report) } as JobRecord) };
};

describe('worker-control: the agents’ only way into the control plane', () => {
  it('answers every request with data: invalid requests, refused identities and "try again" are told apart', async () => {
    const f = await fleetFixture();
    const control = createWorkerControl(f.fleet.agents, jobsAnswering(() => ({})), quiet);
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

  it('answers a job start with the saga\'s verdict, for the worker the agent says it is only', async () => {
    const f = await fleetFixture();
    const identity = { workerId: 'w-01m8nrv99xatwktdbcaaanvhja', instanceId: 'i-0123456789abcdef0', agentVersion: '0.2.0' };
    const report = { type: 'started', jobId: 'job_1', run: 1, attempt: 1, workerId: identity.workerId, startedAt: new Date().toISOString(), taskToken: 'token-1' };
    const verdict = async (job: (r: WorkerReport) => Partial<JobRecord>, body: object = report) => createWorkerControl(f.fleet.agents, jobsAnswering(job), quiet)({ action: 'jobStarting', identity, report: body });

    expect(await verdict(() => ({}))).toEqual({ ok: true, verdict: 'proceed' });
    expect(await verdict(() => ({ status: 'DISPATCHED', cancelRequested: true, taskToken: undefined }))).toEqual({ ok: true, verdict: 'cancelled' });
    expect(await verdict(() => ({ attempts: 2 }))).toEqual({ ok: true, verdict: 'over' });
    expect(await verdict(() => ({ status: 'SUCCEEDED' }))).toEqual({ ok: true, verdict: 'over' });
    // Another agent took the reappeared message and recorded its own token: this one must not run it.
    expect(await verdict(() => ({ taskToken: 'token-2' }))).toEqual({ ok: true, verdict: 'over' });
    // The attempt was stopped while its worker was removed: it stays on that worker, and nobody runs it.
    expect(await verdict(() => ({ workerId: 'w-01m8nrv99xatwktdbcaaanvhjc', stopRequested: true }))).toEqual({ ok: true, verdict: 'over' });
    expect(await verdict(() => ({}), { ...report, workerId: 'w-01m8nrv99xatwktdbcaaanvhjb' })).toMatchObject({ ok: false, code: 'IDENTITY_REJECTED', retryable: false });
    expect(await verdict(() => ({}), { ...report, taskToken: '' })).toMatchObject({ ok: false, code: 'INVALID_REQUEST' });
  });
});
