import { describe, expect, it } from 'vitest';
import type { JobRecord } from '../../functions/core/job.ts';
import type { WorkerReport } from '../../functions/core/saga-messages.ts';
import { createWorkerControl, type JobStarts } from '../../functions/fleet/worker-control.ts';
import { fleetFixture } from './fakes.ts';

const quiet = { warn: () => {}, error: () => {} };
type FailedTask = { taskToken: string; reason: string; cause: Record<string, unknown> };

/**
 * The saga's answer to a start report: the job as recordRunning leaves it. `failTask` records what it fails, or
 * throws `failure` when one is given (Step Functions unreachable).
 */
const jobsAnswering = (job: (report: WorkerReport) => Partial<JobRecord>, failure?: Error): JobStarts & { reports: WorkerReport[]; failed: FailedTask[] } => {
  const reports: WorkerReport[] = [];
  const failed: FailedTask[] = [];
  return {
    reports,
    failed,
    recordRunning: async (report) => (reports.push(report), { run: report.run, attempts: report.attempt, taskToken: report.taskToken, workerId: report.workerId, status: 'RUNNING', cancelRequested: false, ...job(report) } as JobRecord),
    failTask: async (taskToken, reason, cause) => {
      if (failure) throw failure;
      failed.push({ taskToken, reason, cause });
      return 'failed';
    },
  };
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
    const jobs: ReturnType<typeof jobsAnswering>[] = [];
    const verdict = async (job: (r: WorkerReport) => Partial<JobRecord>, body: object = report) => {
      jobs.push(jobsAnswering(job));
      return createWorkerControl(f.fleet.agents, jobs.at(-1)!, quiet)({ action: 'jobStarting', identity, report: body });
    };

    expect(await verdict(() => ({}))).toEqual({ ok: true, verdict: 'proceed' });
    expect(await verdict(() => ({ status: 'DISPATCHED', cancelRequested: true, taskToken: undefined }))).toEqual({ ok: true, verdict: 'cancelled' });
    expect(await verdict(() => ({ attempts: 2 }))).toEqual({ ok: true, verdict: 'over' });
    expect(await verdict(() => ({ status: 'SUCCEEDED' }))).toEqual({ ok: true, verdict: 'over' });
    // Another agent took the reappeared message and recorded its own token: this one must not run it.
    expect(await verdict(() => ({ taskToken: 'token-2' }))).toEqual({ ok: true, verdict: 'over' });
    expect(await verdict(() => ({}), { ...report, workerId: 'w-01m8nrv99xatwktdbcaaanvhjb' })).toMatchObject({ ok: false, code: 'IDENTITY_REJECTED', retryable: false });
    expect(await verdict(() => ({}), { ...report, taskToken: '' })).toMatchObject({ ok: false, code: 'INVALID_REQUEST' });
    // None of those answers failed a task: an agent's start only fails one that a removed worker's release left open.
    expect(jobs.flatMap((j) => j.failed)).toEqual([]);
  });

  it('answers "over" for an attempt stopped for a removed worker, and fails its task if the release left it open', async () => {
    const f = await fleetFixture();
    const identity = { workerId: 'w-01m8nrv99xatwktdbcaaanvhja', instanceId: 'i-0123456789abcdef0', agentVersion: '0.2.0' };
    const report = { type: 'started', jobId: 'job_1', run: 1, attempt: 2, workerId: identity.workerId, startedAt: new Date().toISOString(), taskToken: 'token-1' };
    const removed = 'w-01m8nrv99xatwktdbcaaanvhjc';
    const stopped = () => ({ workerId: removed, stopRequested: true });

    const jobs = jobsAnswering(stopped);
    expect(await createWorkerControl(f.fleet.agents, jobs, quiet)({ action: 'jobStarting', identity, report })).toEqual({ ok: true, verdict: 'over' });
    expect(jobs.failed).toEqual([{ taskToken: 'token-1', reason: 'WORKER_LOST', cause: { message: 'Attempt 2 was stopped when its worker was removed', workerId: removed } }]);

    // A stopped attempt of another task (a later dispatch's token) is not this agent's to fail.
    const other = jobsAnswering(() => ({ ...stopped(), taskToken: 'token-2' }));
    expect(await createWorkerControl(f.fleet.agents, other, quiet)({ action: 'jobStarting', identity, report })).toEqual({ ok: true, verdict: 'over' });
    expect(other.failed).toEqual([]);

    // Step Functions unreachable: "try again", so the message reappears and the next start fails the task.
    const unreachable = jobsAnswering(stopped, new Error('connect ECONNREFUSED'));
    expect(await createWorkerControl(f.fleet.agents, unreachable, quiet)({ action: 'jobStarting', identity, report })).toMatchObject({ ok: false, code: 'INTERNAL_ERROR', retryable: true });
  });
});
