import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { groupHasLiveMembers } from '../../agent/process-runner.ts';
import { TaskSuccessSchema } from '../../functions/core/saga-messages.ts';
import { finished, startChildAgent, startInProcessAgent, useAgentHarness, type ChildAgent } from './agents.ts';
import { createQueues, dispatch, enqueue, receiveAll, testConfig } from './fakes.ts';

// bin/agent.ts as a real process (node --import tsx), configured by environment only, as on a worker instance.
const h = useAgentHarness();
const children: ChildAgent[] = [];
const leftovers: number[] = [];

afterEach(() => {
  for (const { child } of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  // Job processes a SIGKILLed agent left behind (see the worker-death test).
  for (const pgid of leftovers.splice(0)) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
});

const pidOf = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map(Number) : []);
/** On failure, show what the agent printed. */
const withOutput = (agent: ChildAgent) => `agent output:\n${agent.output.items.join('\n')}`;

describe('agent process: signals', () => {
  it('drains on SIGTERM: the running job finishes and is reported, no new job is taken, exit 0', async () => {
    const queues = await createQueues(h.sqsServer);
    const marker = join(h.tempDir, 'drain-started');
    const running = dispatch({ command: 'touch "$1"; sleep 1; echo finished', args: [marker] });
    await enqueue(h.client, queues, running);
    const agent = startChildAgent(h.sqsServer, h.sfn, queues, { FORGEFLOW_CONCURRENCY: '2' });
    children.push(agent);
    await agent.output.until('the job to start', () => existsSync(marker));

    agent.child.kill('SIGTERM');
    await agent.output.until('draining', () => agent.logged('signal received: draining (send it again to exit at once)'));
    const late = dispatch();
    await enqueue(h.client, queues, late, 'critical');

    expect(await agent.exit, withOutput(agent)).toEqual({ code: 0, signal: null });
    const output = TaskSuccessSchema.parse(JSON.parse(h.sfn.callsFor(running.taskToken, 'SendTaskSuccess')[0]!.input.output!));
    expect(output.outputTail).toBe('finished\n');
    expect(h.sfn.callsFor(late.taskToken)).toEqual([]);
    const [left] = await receiveAll(h.client, queues.urls.critical, 1);
    expect(JSON.parse(left!.Body!)).toMatchObject({ taskToken: late.taskToken });
  });

  it('exits at once on a second signal, killing the job process group', async () => {
    const queues = await createQueues(h.sqsServer);
    const pidFile = join(h.tempDir, 'second-signal.pid');
    // The job ignores SIGTERM: only the SIGKILL sent on the second signal stops it.
    const job = dispatch({ command: 'trap "" TERM; echo $$ > "$1"; sleep 30 & wait; sleep 30', args: [pidFile] });
    await enqueue(h.client, queues, job);
    const agent = startChildAgent(h.sqsServer, h.sfn, queues, { FORGEFLOW_DRAIN_TIMEOUT_SECONDS: '60' });
    children.push(agent);
    await agent.output.until('the job to start', () => pidOf(pidFile).length === 1);
    const [pgid] = pidOf(pidFile);
    leftovers.push(pgid!);

    agent.child.kill('SIGINT');
    await agent.output.until('draining', () => agent.logged('signal received: draining (send it again to exit at once)'));
    const secondAt = Date.now();
    agent.child.kill('SIGINT');

    expect(await agent.exit, withOutput(agent)).toEqual({ code: 130, signal: null });
    // Without the second signal it would drain for up to 60 s.
    expect(Date.now() - secondAt).toBeLessThan(2000);
    await agent.output.until('the job group to be gone', () => !groupHasLiveMembers(pgid!), 3000);
    expect(h.sfn.callsFor(job.taskToken).filter((c) => c.operation !== 'SendTaskHeartbeat')).toEqual([]);
  });
});

describe('agent process: worker death', () => {
  it('lets another agent run the job with the same token when the agent is SIGKILLed', async () => {
    const queues = await createQueues(h.sqsServer, { visibilityTimeoutSeconds: 2 });
    const pidFile = join(h.tempDir, 'death.pid');
    const job = dispatch({ command: 'echo $$ >> "$1"; sleep 2; echo done', args: [pidFile] });
    await enqueue(h.client, queues, job);
    const agentA = startChildAgent(h.sqsServer, h.sfn, queues, { FORGEFLOW_WORKER_ID: 'agent-a' });
    children.push(agentA);
    await agentA.output.until('agent A to start the job', () => pidOf(pidFile).length === 1);
    const [firstPgid] = pidOf(pidFile);
    leftovers.push(firstPgid!);

    agentA.child.kill('SIGKILL');
    expect(await agentA.exit).toEqual({ code: null, signal: 'SIGKILL' });
    // The job survives its agent: it runs in its own session (so a terminal's Ctrl-C or the agent's own signals do not
    // reach it), and Node has no PR_SET_PDEATHSIG. On a worker instance systemd's KillMode=control-group kills it with
    // the agent's unit (setsid does not leave the cgroup), and an instance that dies takes it along. Locally it runs on
    // until it ends by itself; it can no longer answer the task (its pipes' reader is gone), and the saga's
    // TimeoutSeconds bounds the task whatever happens to such a process.
    expect(groupHasLiveMembers(firstPgid!)).toBe(true);

    // Agent A stopped extending the visibility, so the message reappears within VisibilityTimeout (2 s).
    const agentB = startInProcessAgent(h.sqsServer, h.sfn, testConfig(queues, { workerId: 'agent-b' }));
    h.agents.push(agentB);
    const end = await finished(agentB.events, job.taskToken);

    expect(end.end).toBe('succeeded');
    expect(agentB.events.items.find((e) => e.type === 'received')).toMatchObject({ receiveCount: 2 });
    const success = h.sfn.callsFor(job.taskToken, 'SendTaskSuccess');
    expect(success).toHaveLength(1);
    expect(TaskSuccessSchema.parse(JSON.parse(success[0]!.input.output!))).toMatchObject({ workerId: 'agent-b', outputTail: 'done\n' });
    expect(pidOf(pidFile)).toHaveLength(2);
  });
});
