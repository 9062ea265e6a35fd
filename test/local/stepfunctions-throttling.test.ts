import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { afterEach, describe, expect, it } from 'vitest';
import { isThrottled } from '../../functions/consumers/saga-starter/saga-starter.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/dynamodb-local.ts';
import { startJsonProtocolServer, type JsonProtocolServer } from '../../local/json-protocol-server.ts';
import { LocalStepFunctionsEngine, type LocalEngineOptions } from '../../local/stepfunctions/engine.ts';
import { localStateMachineArn, type AslDefinition } from '../../local/stepfunctions/local-definition.ts';
import { stepFunctionsOperations } from '../../local/stepfunctions/operations.ts';
import { executionArnOf } from '../../local/stepfunctions/types.ts';

const ARN = localStateMachineArn('throttling-test');
const definition: AslDefinition = { StartAt: 'Done', States: { Done: { Type: 'Pass', End: true } } };

let engine: LocalStepFunctionsEngine | undefined;
let server: JsonProtocolServer | undefined;
let sfn: SFNClient | undefined;

afterEach(async () => {
  sfn?.destroy();
  await server?.close();
  await engine?.close();
  [engine, server, sfn] = [undefined, undefined, undefined];
});

/** An engine whose bucket reads `clock.now`, which only the test moves. */
function create(options: Partial<LocalEngineOptions> = {}) {
  const clock = { now: 1_000_000 };
  engine = new LocalStepFunctionsEngine({ stateMachines: [{ arn: ARN, definition, handlers: {} }], sendMessage: async () => {}, now: () => clock.now, ...options });
  return { engine, clock };
}

const start = (name: string, input = '{}') => engine!.startExecution({ stateMachineArn: ARN, name, input });
const throttled = { name: 'ThrottlingException', message: 'Rate exceeded' };

describe('StartExecution throttling in the local Step Functions engine', () => {
  it('is off by default: a burst of starts all succeed', async () => {
    create();

    const started = await Promise.all(Array.from({ length: 50 }, (_, i) => start(`run-${i}`)));

    expect(started).toHaveLength(50);
  });

  it('refuses starts beyond the burst with ThrottlingException, and grants again as the bucket refills', async () => {
    const { clock } = create({ startExecutionRate: { burst: 3, refillPerSecond: 2 } });

    for (const name of ['a', 'b', 'c']) await expect(start(name)).resolves.toMatchObject({ executionArn: executionArnOf(ARN, name) });
    await expect(start('d')).rejects.toMatchObject(throttled);
    // A refused start is no execution.
    expect(await engine!.describeExecution(executionArnOf(ARN, 'd'))).toBeUndefined();

    clock.now += 499;
    await expect(start('d')).rejects.toMatchObject(throttled);
    clock.now += 1;
    await expect(start('d')).resolves.toBeDefined();
    await expect(start('e')).rejects.toMatchObject(throttled);

    // Two tokens a second, never more than the burst however long the quiet spell.
    clock.now += 60_000;
    for (const name of ['e', 'f', 'g']) await expect(start(name)).resolves.toBeDefined();
    await expect(start('h')).rejects.toMatchObject(throttled);
  });

  it('counts calls, not executions: an idempotent repeat and an invalid call spend a token too', async () => {
    create({ startExecutionRate: { burst: 2, refillPerSecond: 1 } });

    await start('same');
    await expect(engine!.startExecution({ stateMachineArn: ARN, name: 'bad name!', input: '{}' })).rejects.toMatchObject({ name: 'InvalidName' });
    await expect(start('same')).rejects.toMatchObject(throttled);
    await expect(engine!.startExecution({ stateMachineArn: ARN, name: 'bad name!', input: '{}' })).rejects.toMatchObject(throttled);
  });

  it('reaches the SDK client as the error the saga starter treats as throttling', async () => {
    create({ startExecutionRate: { burst: 1, refillPerSecond: 1 } });
    server = await startJsonProtocolServer(stepFunctionsOperations(engine!));
    // One attempt: the SDK would otherwise retry a ThrottlingException itself, against a clock that does not move.
    sfn = new SFNClient({ endpoint: server.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
    const send = (name: string) => sfn!.send(new StartExecutionCommand({ stateMachineArn: ARN, name, input: '{}' }));

    await expect(send('first')).resolves.toMatchObject({ executionArn: executionArnOf(ARN, 'first') });
    const error = await send('second').catch((e: unknown) => e);

    expect(error).toMatchObject({ ...throttled, $metadata: { httpStatusCode: 400 } });
    expect(isThrottled(error)).toBe(true);
  });
});
