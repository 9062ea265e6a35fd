import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { COMPENSATION_ORDER } from '../../functions/core/saga.ts';
import { DispatchMessageSchema } from '../../functions/core/saga-messages.ts';
import { functionArnKey, SAGA_STEP_NAMES } from '../../functions/saga/steps.ts';
import type { AslDefinition, AslState } from '../../local/stepfunctions/local-definition.ts';
import { loadSagaDefinition } from './harness.ts';

type Validator = (definition: unknown, options: { checkPaths: boolean; checkArn: boolean }) => { isValid: boolean; errorsText(separator?: string): string };
const aslValidator = createRequire(import.meta.url)('asl-validator') as Validator;

/** What CloudFormation does with DefinitionSubstitutions, with ARNs of the right shape. */
function substituted(definition: AslDefinition): AslDefinition {
  const text = JSON.stringify(definition).replace(/\$\{(\w+)FunctionArn\}/g, (_, name: string) => `arn:aws:lambda:eu-west-1:123456789012:function:forgeflow-${name}`);
  return JSON.parse(text) as AslDefinition;
}

/** Follows Next from StartAt, taking each Task's success edge: the path a job that just works takes. */
function happyPath(definition: AslDefinition): string[] {
  const path: string[] = [];
  let name: string | undefined = definition.StartAt;
  while (name) {
    path.push(name);
    const state: AslState = definition.States[name]!;
    name = state.End ? undefined : (state.Next as string | undefined);
  }
  return path;
}

describe('ASL: statemachines/job-saga.asl.json', () => {
  const definition = loadSagaDefinition();

  it('is valid Amazon States Language once its substitutions are filled in (asl-validator, paths and ARNs checked)', () => {
    const result = aslValidator(substituted(definition), { checkPaths: true, checkArn: true });

    expect(result.errorsText('\n')).toBe('');
    expect(result.isValid).toBe(true);
  });

  it('keeps the happy path at 5 state transitions or fewer', () => {
    const path = happyPath(definition);

    expect(path).toEqual(['ClaimJob', 'Dispatch', 'RecordSuccess']);
    expect(path.length).toBeLessThanOrEqual(5);
  });

  it('compensates last-in first-out: the failure path visits the undos in COMPENSATION_ORDER', () => {
    const order: string[] = [];
    let name: string | undefined = definition.States.Categorize!.Next as string;
    while (name && name !== 'RecordFailure') {
      order.push(name);
      name = definition.States[name]!.Next as string | undefined;
    }

    expect(order).toEqual([...COMPENSATION_ORDER]);
    // A compensation that fails is recorded and the next one still runs.
    for (const undo of COMPENSATION_ORDER) {
      expect(definition.States[undo]!.Catch).toEqual([expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: definition.States[undo]!.Next })]);
    }
  });

  it('sends exactly the DispatchMessage fields, with the task token, and bounds the wait by the dispatch timeout', () => {
    const dispatch = definition.States.Dispatch!;
    const body = (dispatch.Parameters as { MessageBody: Record<string, string> }).MessageBody;

    expect(dispatch.Resource).toBe('arn:aws:states:::sqs:sendMessage.waitForTaskToken');
    expect(Object.keys(body).map((key) => key.replace(/\.\$$/, '')).sort()).toEqual(Object.keys(DispatchMessageSchema.shape).sort());
    expect(body['taskToken.$']).toBe('$$.Task.Token');
    expect(dispatch.TimeoutSecondsPath).toBe('$.dispatch.dispatchTimeoutSeconds');
    // No heartbeat timeout: a message waiting in the queue sends no heartbeats; liveness is SQS visibility.
    expect(dispatch.HeartbeatSeconds).toBeUndefined();
  });

  it('uses one function per saga step, every Task bounded by a timeout', () => {
    const placeholders = [...JSON.stringify(definition).matchAll(/\$\{(\w+)\}/g)].map((match) => match[1]);

    expect(new Set(placeholders)).toEqual(new Set(SAGA_STEP_NAMES.map(functionArnKey)));
    for (const [name, state] of Object.entries(definition.States)) {
      if (state.Type === 'Task') expect(state.TimeoutSeconds ?? state.TimeoutSecondsPath, name).toBeDefined();
    }
  });

  it('parks on NoCapacity (no polling Retry), and catches JobNotClaimable as a quiet end', () => {
    const claim = definition.States.ClaimJob!;

    expect(JSON.stringify(claim.Retry)).not.toContain('NoCapacity');
    expect(claim.Retry).toContainEqual(expect.objectContaining({ ErrorEquals: expect.arrayContaining(['Lambda.ServiceException', 'Lambda.TooManyRequestsException']) }));
    expect(definition.States.WaitForSlot).toMatchObject({ Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken', Next: 'ClaimJob' });
    expect(claim.Catch).toEqual([
      expect.objectContaining({ ErrorEquals: ['NoCapacity'], ResultPath: null, Next: 'WaitForSlot' }),
      expect.objectContaining({ ErrorEquals: ['JobNotClaimable'], Next: 'NotClaimable' }),
      expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: 'Categorize' }),
    ]);
    expect(definition.States.NotClaimable!.Type).toBe('Succeed');
  });

  it('is JSONPath only (the local interpreter does not run JSONata)', () => {
    expect(definition.QueryLanguage ?? 'JSONPath').toBe('JSONPath');
    for (const state of Object.values(definition.States)) expect(state.QueryLanguage ?? 'JSONPath').toBe('JSONPath');
  });
});
