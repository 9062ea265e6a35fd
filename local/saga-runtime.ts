import { readFileSync } from 'node:fs';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { JOB_SAGA, PROVISION_WORKER, stepHandlerModule } from '../functions/declarations/statemachines.ts';
import { PROVISION_STEP_NAMES, type ProvisionStep, type ProvisionStepName } from '../functions/fleet/steps.ts';
import { importHandler, invoker } from './lambda.ts';
import type { LocalSqs } from './sqs.ts';
import { LocalStepFunctionsEngine, type StepHandler } from './stepfunctions/engine.ts';
import { localStateMachineArn, type AslDefinition } from './stepfunctions/local-definition.ts';
import { stepFunctionsOperations } from './stepfunctions/operations.ts';

/** `${ClaimJobFunctionArn}` → functions/saga/handlers/claim-job.ts: the step Lambdas, named as the ASL names them. */
const stepModule = (step: string) => `../${stepHandlerModule(JOB_SAGA, step)}`;

export interface SagaRuntime {
  engine: LocalStepFunctionsEngine;
  stateMachineArn: string;
  provisionWorkerArn: string;
  /** Binds the provisioning saga's steps, built by the local fleet over its worker provider. */
  bindProvisionSteps(steps: Record<ProvisionStepName, ProvisionStep>): void;
  /** What the functions need to reach the saga: its ARN (the SFN endpoint is the backbone's). */
  env: Record<string, string>;
  /** Imports the step handlers once their environment is set (they read it at cold start). */
  loadSteps(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The job saga on the local Step Functions engine: the very ASL file the CDK app deploys, its Task states mapped to
 * the same step Lambda handlers, its dispatch state sending to the local dispatch queues.
 */
export function createSagaRuntime(sqs: LocalSqs): SagaRuntime {
  const definition = JSON.parse(readFileSync(JOB_SAGA.definitionPath, 'utf8')) as AslDefinition;
  const steps = [...JSON.stringify(definition).matchAll(/\$\{([A-Za-z0-9]+)FunctionArn\}/g)].map((m) => m[1]!);
  const loaded = new Map<string, (input: unknown) => Promise<unknown>>();
  // Handlers are bound lazily: the engine is built before the environment the handlers read exists.
  const handlers: Record<string, StepHandler> = Object.fromEntries(
    steps.map((step) => [
      step,
      (input: unknown) => {
        const handler = loaded.get(step);
        if (!handler) throw new Error(`Saga step ${step} is not loaded yet`);
        return handler(input);
      },
    ]),
  );
  const stateMachineArn = localStateMachineArn(JOB_SAGA.name);
  const provisionWorkerArn = localStateMachineArn(PROVISION_WORKER.name);
  let provisionSteps: Record<ProvisionStepName, ProvisionStep> | undefined;
  const provisionHandlers: Record<string, StepHandler> = Object.fromEntries(
    PROVISION_STEP_NAMES.map((step) => [
      step,
      (input: unknown) => {
        if (!provisionSteps) throw new Error(`Provisioning step ${step} is not bound yet`);
        return provisionSteps[step](input);
      },
    ]),
  );
  const engine = new LocalStepFunctionsEngine({
    stateMachines: [
      { arn: stateMachineArn, definition, handlers },
      { arn: provisionWorkerArn, definition: JSON.parse(readFileSync(PROVISION_WORKER.definitionPath, 'utf8')) as AslDefinition, handlers: provisionHandlers },
    ],
    sendMessage: async (queueUrl, body) => {
      await sqs.client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
    },
  });
  return {
    engine,
    stateMachineArn,
    provisionWorkerArn,
    bindProvisionSteps: (steps) => void (provisionSteps = steps),
    env: { [JOB_SAGA.envVar]: stateMachineArn, [PROVISION_WORKER.envVar]: provisionWorkerArn },
    async loadSteps() {
      for (const step of new Set(steps)) {
        loaded.set(step, invoker(`forgeflow-saga-${step}`, await importHandler<unknown, unknown>(stepModule(step)), 30_000));
      }
    },
    stop: () => engine.close(),
  };
}

export { stepFunctionsOperations };
