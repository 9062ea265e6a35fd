import { describe, expect, it } from 'vitest';
import type { AgentRequest, AgentResponse } from '../../functions/core/fleet/agent-protocol.ts';
import { FleetMembership, RegistrationRefusedError } from '../../agent/fleet-membership.ts';
import { AgentIdentityError, readIdentity } from '../../agent/identity.ts';

const identity = { workerId: 'w-01m8nrv99xatwktdbcaaanvhja', instanceId: 'i-0123456789abcdef0', agentVersion: '0.2.0' };
const instruction = { directive: 'continue' as const, heartbeatIntervalSeconds: 1, idleTimeoutSeconds: 60, minRunningSeconds: 0 };

/** A control plane answering from a script per action; it records every request. */
function scriptedControl(script: Partial<Record<AgentRequest['action'], AgentResponse[]>>) {
  const requests: AgentRequest[] = [];
  return {
    requests,
    call: async (request: AgentRequest): Promise<AgentResponse> => {
      requests.push(request);
      return script[request.action]?.shift() ?? { ok: true, instruction };
    },
  };
}

/** An agent stand-in: which jobs it holds, since when it is idle, and what it was asked to do. */
function fakeAgent(options: { jobIds?: string[]; idleSince?: number } = {}) {
  const calls: string[] = [];
  return {
    calls,
    runningJobIds: () => options.jobIds ?? [],
    idleSince: () => options.idleSince,
    drain: async (o?: { timeoutSeconds?: number }) => void calls.push(`drain:${o?.timeoutSeconds}`),
    releaseAll: () => void calls.push('releaseAll'),
    stats: () => ({ runningJobs: (options.jobIds ?? []).length, freeSlots: 4 - (options.jobIds ?? []).length, jobsDone: 7, uptimeSeconds: 60, loadAverage: [0.5, 0.4, 0.3] as [number, number, number], memoryRssBytes: 50_000_000 }),
  };
}

const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const noSleep = async () => undefined;

describe('Agent: fleet membership', () => {
  it('registers, retrying answers that say "try again", and gives up on a refusal', async () => {
    const control = scriptedControl({ register: [{ ok: false, code: 'TRY_AGAIN', message: 'not launched yet', retryable: true }, { ok: true, instruction }] });
    const membership = new FleetMembership({ control, identity, agent: fakeAgent(), logger: quiet, sleep: noSleep });
    expect(await membership.register()).toEqual(instruction);
    expect(control.requests.map((r) => r.action)).toEqual(['register', 'register']);

    const refused = scriptedControl({ register: [{ ok: false, code: 'IDENTITY_REJECTED', message: 'not ours', retryable: false }] });
    await expect(new FleetMembership({ control: refused, identity, agent: fakeAgent(), logger: quiet, sleep: noSleep }).register()).rejects.toBeInstanceOf(RegistrationRefusedError);
  });

  it('heartbeats the jobs it holds, and on "drain" finishes them (no deadline), then says goodbye', async () => {
    const control = scriptedControl({ heartbeat: [{ ok: true, instruction }, { ok: true, instruction: { ...instruction, directive: 'drain' } }] });
    const agent = fakeAgent({ jobIds: ['job_1'] });
    const membership = new FleetMembership({ control, identity, agent, logger: quiet, sleep: noSleep });
    await membership.register();
    expect(await membership.run()).toBe('drained');
    const heartbeats = control.requests.filter((r) => r.action === 'heartbeat');
    expect(heartbeats.map((r) => (r as { runningJobIds: string[] }).runningJobIds)).toEqual([['job_1'], ['job_1']]);
    // Each heartbeat carries the agent's own figures: the collector's agent source.
    expect(heartbeats.map((r) => (r as Extract<AgentRequest, { action: 'heartbeat' }>).stats)).toEqual([expect.objectContaining({ runningJobs: 1, freeSlots: 3, jobsDone: 7 }), expect.objectContaining({ runningJobs: 1 })]);
    expect(agent.calls).toEqual(['drain:Infinity']);
    expect(control.requests.at(-1)!.action).toBe('goodbye');
  });

  it('on "release" gives every job back at once, then leaves', async () => {
    const control = scriptedControl({ heartbeat: [{ ok: true, instruction: { ...instruction, directive: 'release' } }] });
    const agent = fakeAgent({ jobIds: ['job_1', 'job_2'] });
    const membership = new FleetMembership({ control, identity, agent, logger: quiet, sleep: noSleep });
    await membership.register();
    expect(await membership.run()).toBe('released');
    expect(agent.calls).toEqual(['releaseAll', 'drain:Infinity']);
  });

  it('asks to leave only when idle past the idle timeout and older than the minimum running time; a refusal waits another timeout', async () => {
    let now = 1_000_000;
    const control = scriptedControl({ requestDrain: [{ ok: true, granted: false, instruction }, { ok: true, granted: true, instruction: { ...instruction, directive: 'drain' } }] });
    const agent = fakeAgent({ idleSince: now });
    const tick = async () => void (now += 30_000);
    const membership = new FleetMembership({ control, identity, agent, logger: quiet, now: () => now, sleep: tick });
    await membership.register();
    expect(await membership.run()).toBe('drained');
    const asks = control.requests.map((r, i) => [r.action, i] as const).filter(([a]) => a === 'requestDrain');
    expect(asks).toHaveLength(2);
    // Idle 60 s is needed: the first ask comes at the third heartbeat (0, 30, 60 s), the second 60 s after the refusal.
    const heartbeatsBefore = (index: number) => control.requests.slice(0, index).filter((r) => r.action === 'heartbeat').length;
    expect(heartbeatsBefore(asks[0]![1])).toBe(3);
    expect(heartbeatsBefore(asks[1]![1])).toBe(5);
  });

  it('a worker the platform no longer knows (a non-retryable heartbeat answer) gives its jobs back and leaves', async () => {
    const control = scriptedControl({ heartbeat: [{ ok: false, code: 'WORKER_NOT_FOUND', message: 'gone', retryable: false }] });
    const agent = fakeAgent({ jobIds: ['job_1'] });
    const membership = new FleetMembership({ control, identity, agent, logger: quiet, sleep: noSleep });
    await membership.register();
    expect(await membership.run()).toBe('released');
    expect(agent.calls[0]).toBe('releaseAll');
  });
});

describe('Agent: instance identity', () => {
  it('reads the instance id over IMDSv2: a session token first, then the identity document with it', async () => {
    const seen: { method: string; url: string; headers: Record<string, string> }[] = [];
    const fakeFetch = (async (url: string, init: RequestInit) => {
      seen.push({ method: init.method ?? 'GET', url, headers: init.headers as Record<string, string> });
      if (url.endsWith('/latest/api/token')) return new Response('session-token');
      return Response.json({ instanceId: 'i-0123456789abcdef0', region: 'us-east-1' });
    }) as typeof fetch;
    expect(await readIdentity(identity.workerId, {}, fakeFetch)).toMatchObject({ workerId: identity.workerId, instanceId: 'i-0123456789abcdef0' });
    expect(seen[0]).toMatchObject({ method: 'PUT', url: 'http://169.254.169.254/latest/api/token', headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '21600' } });
    expect(seen[1]).toMatchObject({ url: 'http://169.254.169.254/latest/dynamic/instance-identity/document', headers: { 'x-aws-ec2-metadata-token': 'session-token' } });
  });

  it('says why when the metadata service cannot be read, or the worker id is missing', async () => {
    const down = (async () => new Response('', { status: 401 })) as unknown as typeof fetch;
    await expect(readIdentity(identity.workerId, {}, down)).rejects.toThrow(/IMDSv2: token request answered 401/);
    await expect(readIdentity(undefined, {})).rejects.toBeInstanceOf(AgentIdentityError);
    expect(await readIdentity(identity.workerId, { FORGEFLOW_INSTANCE_IDENTITY: 'local', FORGEFLOW_INSTANCE_ID: 'local-3' })).toMatchObject({ instanceId: 'local-3' });
  });
});
