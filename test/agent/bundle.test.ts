import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAgent } from '../../agent/build.ts';
import { TaskSuccessSchema } from '../../functions/core/saga-messages.ts';
import { startLocalSqs, type LocalSqs } from '../../local/sqs.ts';
import { startChildAgent } from './agents.ts';
import { createQueues, dispatch, enqueue, startFakeStepFunctions, type FakeStepFunctions } from './fakes.ts';

// The single-file bundle a worker instance runs: built once here into a temporary folder, then run with plain node.
const run = promisify(execFile);
const outDir = mkdtempSync(join(tmpdir(), 'forgeflow-agent-bundle-'));
const bundle = join(outDir, 'agent.mjs');
let sqsServer: LocalSqs;
let sfn: FakeStepFunctions;

beforeAll(async () => {
  await buildAgent(bundle);
  sqsServer = await startLocalSqs();
  sfn = await startFakeStepFunctions();
});
afterAll(async () => {
  await sfn?.close();
  await sqsServer?.stop();
  rmSync(outDir, { recursive: true, force: true });
});

describe('agent bundle (dist/agent.mjs)', () => {
  it('prints its help with no node_modules next to it', async () => {
    const { stdout } = await run(process.execPath, [bundle, '--help'], { cwd: outDir });
    expect(stdout).toContain('Usage: agent [options]');
    expect(stdout).toContain('DISPATCH_QUEUE_URL_<CLASS>_CRITICAL');
  });

  it('exits 2 with the missing settings named', async () => {
    const failure = await run(process.execPath, [bundle], { cwd: outDir, env: { PATH: process.env.PATH } }).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: 2 });
    expect((failure as { stderr: string }).stderr).toContain('WORKER_REPORTS_QUEUE_URL: is not set');
  });

  it('runs a job end to end and drains on SIGTERM', async () => {
    const queues = await createQueues(sqsServer);
    const job = dispatch({ command: 'echo bundled' });
    await enqueue(sqsServer.client, queues, job);
    const agent = startChildAgent(sqsServer, sfn, queues, {}, [bundle]);
    try {
      await sfn.calls.until('the answer', () => sfn.callsFor(job.taskToken, 'SendTaskSuccess').length === 1);
      agent.child.kill('SIGTERM');
      expect(await agent.exit, agent.output.items.join('\n')).toEqual({ code: 0, signal: null });
    } finally {
      agent.child.kill('SIGKILL');
    }
    const output = TaskSuccessSchema.parse(JSON.parse(sfn.callsFor(job.taskToken, 'SendTaskSuccess')[0]!.input.output!));
    expect(output.outputTail).toBe('bundled\n');
  });
});
