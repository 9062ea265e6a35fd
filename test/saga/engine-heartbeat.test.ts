import { afterEach, describe, expect, it } from 'vitest';
import { LocalStepFunctionsEngine } from '../../local/stepfunctions/engine.ts';
import { localStateMachineArn, type AslDefinition } from '../../local/stepfunctions/local-definition.ts';

const ARN = localStateMachineArn('heartbeat-test');

/** The shape of the saga's ClaimJob: a Lambda handed the task token, then a wait bounded by heartbeats and a cap. */
const definition: AslDefinition = {
  StartAt: 'Hand',
  States: {
    Hand: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      Parameters: { FunctionName: '${HandFunctionArn}', Payload: { 'token.$': '$$.Task.Token' } },
      HeartbeatSeconds: 1,
      TimeoutSeconds: 30,
      ResultPath: '$.answer',
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Caught' }],
      End: true,
    },
    Caught: { Type: 'Pass', End: true },
  },
};

describe('Class: LocalStepFunctionsEngine, HeartbeatSeconds of a token wait', () => {
  let engine: LocalStepFunctionsEngine;
  let token: Promise<string>;

  const create = () => {
    let handed!: (token: string) => void;
    token = new Promise((resolve) => (handed = resolve));
    engine = new LocalStepFunctionsEngine({
      stateMachines: [{ arn: ARN, definition, handlers: { Hand: async (input) => handed((input as { token: string }).token) } }],
      sendMessage: async () => {},
    });
  };
  const run = async (name: string) => (await engine.startExecution({ stateMachineArn: ARN, name, input: '{}' })).executionArn;

  afterEach(async () => {
    await engine.close();
  });

  it('fails the state with States.HeartbeatTimeout when no heartbeat comes within HeartbeatSeconds', async () => {
    create();
    const executionArn = await run('silent');
    const handed = await token;

    const execution = await engine.waitForExecution(executionArn);

    expect(JSON.parse(execution.output!).error).toMatchObject({ Error: 'States.HeartbeatTimeout' });
    expect(() => engine.registry.succeed(handed, {})).toThrow(expect.objectContaining({ name: 'TaskTimedOut' }));
  });

  it('keeps waiting past HeartbeatSeconds while heartbeats come, until the answer', async () => {
    create();
    const executionArn = await run('beating');
    const handed = await token;
    // Five heartbeats 300 ms apart: 1.5 s in all, longer than the 1 s HeartbeatSeconds.
    for (let beat = 0; beat < 5; beat++) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      engine.registry.heartbeat(handed);
    }
    engine.registry.succeed(handed, { done: true });

    const execution = await engine.waitForExecution(executionArn);

    expect(execution.status).toBe('SUCCEEDED');
    expect(JSON.parse(execution.output!)).toEqual({ answer: { done: true } });
  });
});
