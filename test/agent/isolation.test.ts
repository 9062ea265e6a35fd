import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { categorizeOutcome } from '../../agent/categorize.ts';
import { AgentConfigError, agentHelp, parseAgentConfig } from '../../agent/config.ts';
import { JobUserError, resolveJobUser, type JobUserSystem } from '../../agent/job-user.ts';
import { runJobProcess, type JobProcessOutcome } from '../../agent/process-runner.ts';
import { removeWorkDir } from '../../agent/work-dir.ts';
import { TaskSuccessSchema } from '../../functions/core/saga-messages.ts';
import { finished, useAgentHarness } from './agents.ts';
import { dispatch, enqueue } from './fakes.ts';

// Jobs run as the job user (`nobody` here) must not be able to act as the agent. Switching users needs root, so
// those tests run only as root (as CI does); configuration is checked everywhere with an injected uid and passwd.
const isRoot = process.getuid?.() === 0;
const SECRET = `forgeflow-test-secret-${randomUUID()}`;
const lines = (outcome: JobProcessOutcome) => outcome.outputTail.trimEnd().split('\n');

/**
 * Runs jobs from a separate Node process standing in for the agent. /proc/<pid>/environ shows a process's initial
 * environment only, so the secret must be there from exec for a read of it to prove anything; `groups` become its
 * supplementary groups. Each job gets the stand-in's pid as $1.
 */
async function runFromAgentProcess(jobs: Array<{ command: string; asJobUser: boolean }>, groups: number[] = []): Promise<JobProcessOutcome[]> {
  const runner = new URL('../../agent/process-runner.ts', import.meta.url).href;
  const script = `const { runJobProcess } = await import(${JSON.stringify(runner)});
    const [jobs, groups, user] = JSON.parse(process.argv[1]);
    if (groups.length > 0) process.setgroups(groups);
    const outcomes = [];
    for (const job of jobs) outcomes.push(await runJobProcess({ command: job.command, args: [String(process.pid)], timeoutSeconds: 10, user: job.asJobUser ? user : undefined }));
    console.log(JSON.stringify(outcomes));`;
  const spec = JSON.stringify([jobs, groups, resolveJobUser('nobody')]);
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, spec], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    env: { PATH: process.env.PATH, HOME: process.env.HOME, FORGEFLOW_TEST_SECRET: SECRET },
  });
  return JSON.parse(stdout) as JobProcessOutcome[];
}

describe.runIf(isRoot)('a job run as the job user', () => {
  const nobody = isRoot ? resolveJobUser('nobody') : { uid: -1, gid: -1, name: '', home: '' };

  it('has the job user ids, none of the agent groups and no capabilities', async () => {
    const command = 'id -u; id -g; id -G; grep ^CapEff /proc/self/status';
    const [asAgent, asJobUser] = await runFromAgentProcess([{ command, asJobUser: false }, { command, asJobUser: true }], [0, 4, 27]);
    // The stand-in really holds group 0 and the others: the job user's lines below are not empty by accident.
    expect(lines(asAgent!)[2]!.split(' ')).toEqual(expect.arrayContaining(['0', '4', '27']));
    expect(lines(asJobUser!)).toEqual([String(nobody.uid), String(nobody.gid), String(nobody.gid), 'CapEff:\t0000000000000000']);
  });

  it("cannot read the agent's environment through /proc", async () => {
    const command = 'cat /proc/$1/environ';
    const [asAgent, asJobUser] = await runFromAgentProcess([{ command, asJobUser: false }, { command, asJobUser: true }]);
    expect(asAgent!.outputTail).toContain(SECRET); // What the job would see without a job user.
    expect(asJobUser!.exitCode).not.toBe(0);
    expect(asJobUser!.outputTail).toContain('Permission denied');
    expect(asJobUser!.outputTail).not.toContain(SECRET);
  });

  it("does not inherit the agent's environment or HOME", async () => {
    process.env.FORGEFLOW_TEST_SECRET = SECRET;
    try {
      const outcome = await runJobProcess({ command: 'env; cat /proc/$1/environ', args: [String(process.pid)], timeoutSeconds: 10, user: nobody });
      expect(outcome.outputTail).toContain('Permission denied');
      expect(outcome.outputTail).not.toContain(SECRET);
      const home = lines(outcome).find((line) => line.startsWith('HOME='))!.slice('HOME='.length);
      expect(home).not.toBe(process.env.HOME);
      expect(basename(home)).toMatch(/^forgeflow-job-/);
    } finally {
      delete process.env.FORGEFLOW_TEST_SECRET;
    }
  });

  it('works in a fresh directory of its own, also its HOME, removed after the job', async () => {
    // The job also makes a subdirectory it cannot write to: that must not be enough to leave files behind.
    const command = 'pwd; echo "$HOME"; stat -c "%u:%g %a" .; mkdir -p a/b && touch a/b/c && chmod 500 a';
    const outcomes = await Promise.all([1, 2].map(() => runJobProcess({ command, timeoutSeconds: 10, user: nobody })));
    const dirs = outcomes.map((outcome) => {
      const [cwd, home, owner] = lines(outcome);
      expect(outcome.exitCode).toBe(0);
      expect(home).toBe(cwd);
      expect(dirname(cwd!)).toBe(tmpdir());
      expect(owner).toBe(`${nobody.uid}:${nobody.gid} 700`);
      expect(existsSync(cwd!)).toBe(false);
      return cwd;
    });
    expect(dirs[0]).not.toBe(dirs[1]);
  });

  it("removes the directory with the job user's rights, so it never deletes what the job user cannot", async () => {
    // A stand-in for a symlink race won by a left-behind process: root-owned files inside the job's directory.
    // Root plants them while the job waits on a FIFO, then lets it finish.
    let planted: Promise<void> | undefined;
    const cleanupErrors: Array<{ error: Error; dir: string }> = [];
    const outcome = await runJobProcess({
      command: 'mkfifo go && pwd && read x < go',
      timeoutSeconds: 10,
      user: nobody,
      onOutput: (chunk) => {
        if (planted) return;
        const dir = chunk.toString().trim();
        mkdirSync(join(dir, 'planted'));
        writeFileSync(join(dir, 'planted', 'root-file'), '');
        planted = writeFile(join(dir, 'go'), 'go\n');
      },
      onCleanupError: (error, dir) => cleanupErrors.push({ error, dir }),
    });
    await planted;
    const dir = lines(outcome)[0]!;
    try {
      expect(outcome.exitCode).toBe(0);
      expect(existsSync(join(dir, 'planted', 'root-file'))).toBe(true);
      expect(existsSync(join(dir, 'go'))).toBe(false);
      expect(cleanupErrors).toEqual([{ dir, error: expect.objectContaining({ message: expect.stringContaining(`${dir} could not be removed`) }) }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('removing a job directory', () => {
  // An owner no process can be started as: only a removal that starts no process can succeed with it.
  const nobodyCanBe = { uid: -5, gid: -5 };

  it('removes a directory the job left empty with one rmdir, starting no process', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ff-empty-'));
    await expect(removeWorkDir(dir, nobodyCanBe)).resolves.toBeUndefined();
    expect(existsSync(dir)).toBe(false);
  });

  it('takes the long way, as the job user, for a directory with something in it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ff-full-'));
    writeFileSync(join(dir, 'left'), '');
    try {
      await expect(removeWorkDir(dir, nobodyCanBe)).rejects.toThrow();
      expect(existsSync(join(dir, 'left'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a job whose working directory cannot be made', () => {
  it('is not started and fails as a retryable worker problem', async () => {
    const previous = process.env.TMPDIR;
    process.env.TMPDIR = join(tmpdir(), `forgeflow-missing-${randomUUID()}`);
    try {
      const outcome = await runJobProcess({ command: 'true', timeoutSeconds: 10, user: { uid: 65534, gid: 65534, home: '/nonexistent' } });
      expect(outcome).toMatchObject({ pid: null, exitCode: null, spawnError: { code: 'WORK_DIR_FAILED' } });
      expect(outcome.spawnError?.message).toMatch(/working directory could not be created: ENOENT/);
      expect(categorizeOutcome(outcome)).toMatchObject({ succeeded: false, failure: { reason: 'PROCESS_SPAWN_FAILED', retryable: true } });
    } finally {
      if (previous === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = previous;
    }
  });
});

describe('job user configuration', () => {
  const passwd = [
    '# local accounts',
    'root:x:0:0:root:/root:/bin/bash',
    'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin',
    'forgeflow-job:x:990:990::/var/lib/forgeflow-job:/usr/sbin/nologin',
    'wheeled:x:991:0::/:/usr/sbin/nologin',
    '1000:x:1001:1001:a user named 1000:/home/n:/bin/sh',
    '+@nis-users::::::',
  ].join('\n');
  const system = (agentUid: number): JobUserSystem => ({ getuid: () => agentUid, readPasswd: () => passwd });
  const queueEnv = {
    DISPATCH_QUEUE_URL_DEFAULT_CRITICAL: 'http://127.0.0.1:1/q/c',
    DISPATCH_QUEUE_URL_DEFAULT_HIGH: 'http://127.0.0.1:1/q/h',
    DISPATCH_QUEUE_URL_DEFAULT_MEDIUM: 'http://127.0.0.1:1/q/m',
    DISPATCH_QUEUE_URL_DEFAULT_LOW: 'http://127.0.0.1:1/q/l',
    WORKER_REPORTS_QUEUE_URL: 'http://127.0.0.1:1/q/r',
  };
  const config = (argv: string[], env: NodeJS.ProcessEnv = queueEnv, agentUid = 0) => {
    const parsed = parseAgentConfig(argv, env, system(agentUid));
    if (parsed.help) throw new Error('unexpected --help');
    return parsed.config;
  };

  it('resolves a name or a numeric uid, a name first', () => {
    const job = { name: 'forgeflow-job', uid: 990, gid: 990, home: '/var/lib/forgeflow-job' };
    expect(resolveJobUser('forgeflow-job', system(0))).toEqual(job);
    expect(resolveJobUser('990', system(0))).toEqual(job);
    expect(resolveJobUser('1000', system(0))).toMatchObject({ name: '1000', uid: 1001 });
  });

  it('refuses, in one sentence, a user that would not isolate jobs', () => {
    const refusal = (spec: string, agentUid = 0) => {
      try {
        resolveJobUser(spec, system(agentUid));
      } catch (error) {
        expect(error).toBeInstanceOf(JobUserError);
        expect((error as Error).name).toBe('JobUserError');
        return (error as Error).message;
      }
      throw new Error(`${spec} was accepted`);
    };
    expect(refusal('ghost')).toBe('job user "ghost" does not exist in /etc/passwd; create a dedicated unprivileged user for jobs.');
    expect(refusal('4242')).toMatch(/^job user "4242" does not exist/);
    expect(refusal('root')).toBe('job user "root" (uid 0) is root; jobs must run as a dedicated unprivileged user.');
    expect(refusal('0')).toMatch(/^job user "root" \(uid 0\) is root/);
    expect(refusal('wheeled')).toMatch(/has the root group \(gid 0\) as its primary group/);
    expect(refusal('forgeflow-job', 990)).toMatch(/is the agent's own user, so jobs could act as the agent/);
    expect(refusal('forgeflow-job', 1000)).toBe(
      'the agent runs as uid 1000, not root, so it cannot run jobs as job user "forgeflow-job" (uid 990); run the agent as root or leave the job user unset.',
    );
  });

  it('reads --job-user and FORGEFLOW_JOB_USER, and fails configuration naming them', () => {
    expect(config([]).jobUser).toBeUndefined();
    expect(config(['--job-user', 'nobody']).jobUser).toEqual({ name: 'nobody', uid: 65534, gid: 65534, home: '/nonexistent' });
    expect(config(['--job-user', 'forgeflow-job'], { ...queueEnv, FORGEFLOW_JOB_USER: 'nobody' }).jobUser?.name).toBe('forgeflow-job');
    expect(config([], { ...queueEnv, FORGEFLOW_JOB_USER: '65534' }).jobUser?.name).toBe('nobody');
    expect(() => config(['--job-user', 'ghost'])).toThrow(AgentConfigError);
    expect(() => config(['--job-user', 'ghost'])).toThrow(/--job-user \/ FORGEFLOW_JOB_USER: job user "ghost" does not exist/);
    expect(() => config(['--job-user', 'root'])).toThrow(/--job-user \/ FORGEFLOW_JOB_USER: job user "root" \(uid 0\) is root/);
    expect(() => config(['--job-user', 'nobody'], queueEnv, 1000)).toThrow(/the agent runs as uid 1000, not root/);
    // Reported together with the other problems, not instead of them.
    expect(() => config(['--job-user', 'ghost', '--concurrency', 'lots'])).toThrow(/--concurrency[^]*--job-user/);
    expect(agentHelp()).toMatch(/--job-user +FORGEFLOW_JOB_USER/);
  });

  it.runIf(isRoot)('resolves nobody from the real /etc/passwd for a root agent', () => {
    expect(resolveJobUser('nobody')).toMatchObject({ name: 'nobody', uid: 65534 });
  });

  it.runIf(process.platform === 'linux')('refuses a job user for a really unprivileged agent', async () => {
    if (!isRoot) {
      expect(() => resolveJobUser('daemon')).toThrow(/not root, so it cannot run jobs/);
      return;
    }
    // As root, the same check runs in a process that really is unprivileged (nobody), not with an injected uid.
    const module = new URL('../../agent/job-user.ts', import.meta.url).href;
    const script = `const { resolveJobUser } = await import(${JSON.stringify(module)});
      try { resolveJobUser('daemon'); console.log('accepted'); } catch (error) { console.log(error.message); }`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      uid: 65534,
      gid: 65534,
      env: { PATH: process.env.PATH ?? '', HOME: tmpdir() },
    });
    expect(stdout).toMatch(/not root, so it cannot run jobs/);
  });
});

describe('agent with a job user', () => {
  const h = useAgentHarness();

  it.runIf(isRoot)('runs a job received from its queue as the job user', async () => {
    const nobody = resolveJobUser('nobody');
    const { queues, start } = await h.setup({ jobUser: nobody });
    // The job's parent is the agent (this test process): its environ must stay out of reach.
    const job = dispatch({ command: 'id -u; id -G; echo "$HOME"; cat /proc/$PPID/environ >/dev/null 2>&1 || echo denied' });
    await enqueue(h.client, queues, job);
    const { events } = start();

    expect(await finished(events, job.taskToken)).toMatchObject({ end: 'succeeded' });
    const { outputTail } = TaskSuccessSchema.parse(JSON.parse(h.sfn.callsFor(job.taskToken, 'SendTaskSuccess')[0]!.input.output!));
    const [uid, groups, home, denied] = outputTail.trimEnd().split('\n');
    expect([uid, groups, denied]).toEqual([String(nobody.uid), String(nobody.gid), 'denied']);
    expect(basename(home!)).toMatch(/^forgeflow-job-/);
    expect(existsSync(home!)).toBe(false);
  });
});
