import { readFileSync } from 'node:fs';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { JOB_SAGA, PROVISION_WORKER, stepHandlerModule } from '../functions/declarations/statemachines.ts';
import { PROVISION_STEP_NAMES, type ProvisionStep, type ProvisionStepName } from '../functions/fleet/steps.ts';
import { ABNORMAL_END_STATUSES, EXECUTION_STATUS_CHANGE, type ReconcilerResult } from '../functions/reconciler/reconcile-events.ts';
import { importHandler, invoker } from './lambda.ts';
import type { LocalSqs } from './sqs.ts';
import { LocalStepFunctionsEngine, type ExecutionDescription, type StepHandler } from './stepfunctions/engine.ts';
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
  /** Imports the step handlers and the reconciler once their environment is set (they read it at cold start). */
  loadSteps(log: (message: string) => void): Promise<void>;
  /** Runs the reconciler's overdue sweep now, as its schedule does every RECONCILER_SWEEP_MS. */
  sweepOverdue(): Promise<ReconcilerResult>;
  stop(): Promise<void>;
}

/**
 * The job saga on the local Step Functions engine: the very ASL file the CDK app deploys, its Task states mapped to
 * the same step Lambda handlers (ClaimJob's sends to the local dispatch queues).
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
  const reconciler = localReconciler(stateMachineArn);
  const engine = new LocalStepFunctionsEngine({
    onExecutionEnded: reconciler.executionEnded,
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
    async loadSteps(log) {
      for (const step of new Set(steps)) {
        loaded.set(step, invoker(`forgeflow-saga-${step}`, await importHandler<unknown, unknown>(stepModule(step)), 30_000));
      }
      await reconciler.load(log);
    },
    sweepOverdue: () => reconciler.sweep(),
    stop: async () => {
      reconciler.stop();
      await engine.close();
    },
  };
}

/** How often the local runtime sweeps for overdue jobs (the deployed schedule runs every 5 minutes). */
export const RECONCILER_SWEEP_MS = 60_000;
/** Local stand-in for EventBridge's retries of a failed target invocation. */
const RECONCILER_ATTEMPTS = 3;

/**
 * The reconciler Lambda, fed as in AWS: the engine's execution ends become "Step Functions Execution Status Change"
 * events (abnormal ends of the job saga only, as the deployed rule's pattern filters), and a timer is its schedule.
 */
function localReconciler(stateMachineArn: string) {
  let handler: ((event: unknown) => Promise<ReconcilerResult>) | undefined;
  let log: (message: string) => void = () => {};
  let timer: NodeJS.Timeout | undefined;
  // Executions the runtime's own stop aborts are not ends to repair: they resume at the next start (local/recovery.ts).
  let stopped = false;
  const invoke = async (event: unknown): Promise<ReconcilerResult> => {
    if (!handler) throw new Error('The reconciler is not loaded yet');
    return handler(event);
  };
  const deliver = async (event: unknown) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await invoke(event);
      } catch (error) {
        if (attempt >= RECONCILER_ATTEMPTS) throw error;
      }
    }
  };
  return {
    executionEnded: (execution: ExecutionDescription) => {
      if (stopped || execution.stateMachineArn !== stateMachineArn || !(ABNORMAL_END_STATUSES as readonly string[]).includes(execution.status)) return;
      const event = { 'detail-type': EXECUTION_STATUS_CHANGE, source: 'aws.states', detail: { ...execution, startDate: undefined, stopDate: undefined } };
      // What EventBridge would do after its retries: the rule's DLQ. Locally, the log; the sweep still finds held jobs.
      void deliver(event).catch((error: unknown) => log(`forgeflow-reconciler: ${execution.name}: ${(error as Error).message}`));
    },
    async load(logTo: (message: string) => void) {
      log = logTo;
      handler = invoker('forgeflow-reconciler', await importHandler<unknown, ReconcilerResult>('../functions/reconciler/handler.ts'), 60_000);
      timer = setInterval(() => void invoke({}).catch((error: unknown) => log(`forgeflow-reconciler sweep: ${(error as Error).message}`)), RECONCILER_SWEEP_MS);
      timer.unref();
    },
    sweep: () => invoke({}),
    stop: () => {
      stopped = true;
      clearInterval(timer);
    },
  };
}

export { stepFunctionsOperations };
