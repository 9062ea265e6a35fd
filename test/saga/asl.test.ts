import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { LIMITS } from '../../functions/core/job.ts';
import { CLAIM_TASK_TIMEOUT_SECONDS, COMPENSATION_ORDER, DEFAULT_DISPATCH_GRACE_SECONDS } from '../../functions/core/saga.ts';
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

  it('keeps the happy path at 2 state transitions: the claim with its dispatch, and the record', () => {
    expect(happyPath(definition)).toEqual(['ClaimJob', 'RecordSuccess']);
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

  it('hands ClaimJob its task token and waits for the answer, a queued dispatch for the grace, any job for the cap', () => {
    const claim = definition.States.ClaimJob!;
    const payload = (claim.Parameters as { Payload: Record<string, string> }).Payload;

    expect(claim.Resource).toBe('arn:aws:states:::lambda:invoke.waitForTaskToken');
    expect(payload['taskToken.$']).toBe('$$.Task.Token');
    expect(payload['state.$']).toBe('$');
    expect(claim.ResultPath).toBe('$.output');
    // No heartbeat comes while the message waits in its queue; the agent heartbeats from pickup to answer.
    expect(claim.HeartbeatSeconds).toBe(DEFAULT_DISPATCH_GRACE_SECONDS);
    expect(claim.TimeoutSeconds).toBe(CLAIM_TASK_TIMEOUT_SECONDS);
    expect(CLAIM_TASK_TIMEOUT_SECONDS).toBe(LIMITS.timeoutSecondsMax + DEFAULT_DISPATCH_GRACE_SECONDS);
    // RecordSuccess takes the attempt and facts from the agent's answer: the state has no claim result.
    expect(definition.States.RecordSuccess!.Parameters).toEqual({ 'jobId.$': '$.jobId', 'run.$': '$.run', 'output.$': '$.output', 'correlationId.$': '$$.Execution.Name' });
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
