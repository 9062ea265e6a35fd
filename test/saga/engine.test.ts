import { afterEach, describe, expect, it } from 'vitest';
import { LocalStepFunctionsEngine, type StepHandler } from '../../local/stepfunctions/engine.ts';
import { localStateMachineArn, type AslDefinition } from '../../local/stepfunctions/local-definition.ts';
import { executionArnOf } from '../../local/stepfunctions/types.ts';

const ARN = localStateMachineArn('engine-test');

/** A small machine with what the saga relies on: a Lambda step with Retry/Catch, a token wait with a path timeout, a Wait. */
const definition: AslDefinition = {
  StartAt: 'Step',
  States: {
    Step: {
      Type: 'Task',
      Resource: '${StepFunctionArn}',
      Parameters: { 'n.$': '$.n' },
      ResultPath: '$.step',
      TimeoutSeconds: 5,
      Retry: [{ ErrorEquals: ['Flaky'], IntervalSeconds: 1, MaxAttempts: 2 }],
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Caught' }],
      Next: 'Pause',
    },
    Pause: { Type: 'Wait', SecondsPath: '$.pause', Next: 'Send' },
    Send: {
      Type: 'Task',
      Resource: 'arn:aws:states:::sqs:sendMessage.waitForTaskToken',
      Parameters: { QueueUrl: 'http://queue', MessageBody: { 'token.$': '$$.Task.Token', 'n.$': '$.n' } },
      TimeoutSecondsPath: '$.timeout',
      ResultPath: '$.answer',
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Caught' }],
      End: true,
    },
    Caught: { Type: 'Pass', End: true },
  },
};

describe('Class: LocalStepFunctionsEngine', () => {
  let engine: LocalStepFunctionsEngine;
  const sent: { queueUrl: string; body: { token: string; n: number } }[] = [];
  let arrived: Promise<void>;

  const create = (step: StepHandler, options: { waitScale?: number; closedExecutions?: { detailed: number; names: number } } = {}) => {
    sent.length = 0;
    let signal!: () => void;
    arrived = new Promise((resolve) => (signal = resolve));
    engine = new LocalStepFunctionsEngine({
      stateMachines: [{ arn: ARN, definition, handlers: { Step: step } }],
      sendMessage: async (queueUrl, body) => {
        sent.push({ queueUrl, body: JSON.parse(body) });
        signal();
      },
      retryIntervalOverrides: { Step: 0 },
      ...options,
    });
    return engine;
  };
  const start = (name: string, input: object) => engine.startExecution({ stateMachineArn: ARN, name, input: JSON.stringify(input) });
  const waitForMessage = async (executionArn: string) => {
    await engine.waitForState(executionArn, 'Send');
    await arrived;
    return sent[0]!.body;
  };

  afterEach(async () => {
    await engine.close();
    expect(engine.registry.size).toBe(0);
  });

  it('installs Promise.withResolvers on Node 20, which the library needs', () => {
    create(async () => ({}));

    expect(typeof (Promise as unknown as { withResolvers: unknown }).withResolvers).toBe('function');
  });

  it('runs the token wait: one token per attempt in the message, the answer as the task result', async () => {
    create(async (input) => ({ doubled: (input as { n: number }).n * 2 }));
    const { executionArn } = await start('ok', { n: 21, pause: 0, timeout: 30 });

    const message = await waitForMessage(executionArn);
    engine.registry.succeed(message.token, { fine: true });
    const execution = await engine.waitForExecution(executionArn);

    expect(message.token).toMatch(/^fftok_/);
    expect(sent[0]!.queueUrl).toBe('http://queue');
    expect(execution.status).toBe('SUCCEEDED');
    expect(JSON.parse(execution.output!)).toEqual({ n: 21, pause: 0, timeout: 30, step: { doubled: 42 }, answer: { fine: true } });
    expect(engine.history(executionArn)).toMatchObject({ enteredStates: ['Step', 'Pause', 'Send'], transitions: 3 });
  });

  it('fails the execution with States.DataLimitExceeded, past any Catch, when a state grows beyond 256 KB', async () => {
    create(async () => ({ blob: 'x'.repeat(256 * 1024) }));
    const { executionArn } = await start('too-big', { n: 1, pause: 0, timeout: 5 });
    const done = await engine.waitForExecution(executionArn);
    expect(done).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded' });
    expect(engine.history(executionArn).enteredStates).not.toContain('Caught');
    expect(sent).toHaveLength(0);
  });

  it('matches Retry and Catch on the thrown error name, with a Lambda-shaped cause', async () => {
    let calls = 0;
    create(async () => {
      calls += 1;
      throw Object.assign(new Error(`attempt ${calls}`), { name: calls < 3 ? 'Flaky' : 'Broken' });
    });
    const { executionArn } = await start('errors', { n: 1, pause: 0, timeout: 30 });

    const execution = await engine.waitForExecution(executionArn);

    expect(calls).toBe(3);
    expect(JSON.parse(execution.output!).error).toEqual({ Error: 'Broken', Cause: JSON.stringify({ errorType: 'Broken', errorMessage: 'attempt 3' }) });
    expect(engine.history(executionArn).transitions).toBe(4); // Step, 2 retries, Caught
  });

  it('times out the token wait itself, abandoning the token', async () => {
    create(async () => ({}));
    const { executionArn } = await start('timeout', { n: 1, pause: 0, timeout: 1 });
    const message = await waitForMessage(executionArn);

    const execution = await engine.waitForExecution(executionArn);

    expect(JSON.parse(execution.output!).error).toMatchObject({ Error: 'States.Timeout' });
    expect(() => engine.registry.succeed(message.token, {})).toThrow(expect.objectContaining({ name: 'TaskTimedOut' }));
  });

  it('starts idempotently by name and input, and refuses the same name with another input', async () => {
    create(async () => ({}));
    const first = await start('same', { n: 1, pause: 0, timeout: 30 });

    await expect(start('same', { timeout: 30, pause: 0, n: 1 })).resolves.toEqual(first);
    await expect(start('same', { n: 2, pause: 0, timeout: 30 })).rejects.toMatchObject({ name: 'ExecutionAlreadyExists' });
    await expect(start('bad name!', {})).rejects.toMatchObject({ name: 'InvalidName' });
    await expect(engine.startExecution({ stateMachineArn: `${ARN}-x`, name: 'n', input: '{}' })).rejects.toMatchObject({ name: 'StateMachineDoesNotExist' });
    expect(first.executionArn).toBe(executionArnOf(ARN, 'same'));
  });

  it('refuses the name of a closed execution whatever its input, as AWS does for 90 days', async () => {
    create(async () => ({}));
    const { executionArn } = await start('closed', { n: 1, pause: 0, timeout: 30 });
    await engine.stopExecution({ executionArn });

    await expect(start('closed', { n: 1, pause: 0, timeout: 30 })).rejects.toMatchObject({ name: 'ExecutionAlreadyExists' });
  });

  it('keeps the details of the newest closed executions only, and the names of older ones a while longer', async () => {
    create(
      async () => {
        throw Object.assign(new Error('no'), { name: 'Broken' });
      },
      { closedExecutions: { detailed: 2, names: 1 } },
    );
    const run = async (name: string) => engine.waitForExecution((await start(name, { n: 1, pause: 0, timeout: 30 })).executionArn);
    for (const name of ['e1', 'e2', 'e3']) await run(name);

    // e1 fell out of the detailed window: no longer described, but its name is held.
    expect(await engine.describeExecution(executionArnOf(ARN, 'e1'))).toBeUndefined();
    expect(await engine.describeExecution(executionArnOf(ARN, 'e3'))).toMatchObject({ status: 'SUCCEEDED' });
    await expect(start('e1', { n: 1, pause: 0, timeout: 30 })).rejects.toMatchObject({ name: 'ExecutionAlreadyExists' });

    // e4 pushes e2 out of the window and e1's name out of memory: e1 may run again, as in AWS after 90 days.
    await run('e4');
    await expect(start('e2', { n: 1, pause: 0, timeout: 30 })).rejects.toMatchObject({ name: 'ExecutionAlreadyExists' });
    expect(await run('e1')).toMatchObject({ status: 'SUCCEEDED' });
  });

  it('stops an execution waiting for a token: ABORTED, the token answers TaskTimedOut, no timer left behind', async () => {
    create(async () => ({}));
    const timers = () => process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
    const before = timers();
    const { executionArn } = await start('stop', { n: 1, pause: 0, timeout: 3600 });
    const message = await waitForMessage(executionArn);

    await engine.stopExecution({ executionArn, error: 'Stopped', cause: 'by test' });
    const execution = await engine.waitForExecution(executionArn);

    expect(execution).toMatchObject({ status: 'ABORTED', error: 'Stopped', cause: 'by test' });
    // Neither the engine's 3600 s timeout nor the library's backstop timer for the Send state survives the stop.
    expect(timers()).toBe(before);
    expect(await engine.describeExecution(executionArn)).toMatchObject({ status: 'ABORTED' });
    expect(() => engine.registry.fail(message.token, 'X', '')).toThrow(expect.objectContaining({ name: 'TaskTimedOut' }));
    await expect(engine.stopExecution({ executionArn: `${executionArn}-x` })).rejects.toMatchObject({ name: 'ExecutionDoesNotExist' });
  });

  it('scales Wait states by waitScale, still reporting them as Wait', async () => {
    create(async () => ({}), { waitScale: 0.001 });
    // 100 s at 0.001: 0.1 s.
    const { executionArn } = await start('scaled', { n: 1, pause: 100, timeout: 30 });

    const message = await waitForMessage(executionArn);
    engine.registry.succeed(message.token, {});

    expect((await engine.waitForExecution(executionArn)).status).toBe('SUCCEEDED');
    expect(engine.history(executionArn).events.find((event) => event.state === 'Pause')).toMatchObject({ type: 'StateEntered', stateType: 'Wait' });
  });
});
