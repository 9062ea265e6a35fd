import * as z from 'zod';
import type { Fleet } from '../core/fleet/fleet.ts';
import { WORKER_ID_PATTERN } from '../core/fleet/worker-id.ts';

/**
 * The provisioning saga's Lambda steps: validate what the state machine passes, call one fleet operation, return
 * its result. The same functions run in Lambda (functions/fleet/handlers/*) and in the local engine, keyed by the
 * `${<Step>FunctionArn}` placeholders of statemachines/provision-worker.asl.json.
 */
export const PROVISION_STEP_NAMES = ['RecordProvisioning', 'Launch', 'AwaitAgent', 'RecordReady', 'TerminateInstance', 'RecordFailed'] as const;
export type ProvisionStepName = (typeof PROVISION_STEP_NAMES)[number];
export type ProvisionStep = (input: unknown) => Promise<unknown>;

const WorkerInput = z.object({ workerId: z.string().regex(WORKER_ID_PATTERN, 'a worker id looks like w-<ulid>') });

/** What StartExecution passes (execution name: the worker id). */
export const ProvisionExecutionInputSchema = WorkerInput;

const AwaitAgentInput = WorkerInput.extend({ taskToken: z.string().min(1) });
const RecordReadyInput = WorkerInput.extend({ agentVersion: z.string().max(64).optional() });
/** Lenient on purpose: RecordFailed must turn any caught error into a failure, or the worker could not end. */
const RecordFailedInput = WorkerInput.extend({
  error: z.object({ Error: z.string().catch('States.Runtime'), Cause: z.unknown() }).catch({ Error: 'States.Runtime', Cause: undefined }),
});

export function createProvisionSteps(fleet: Pick<Fleet, 'provisioning'>): Record<ProvisionStepName, ProvisionStep> {
  const { provisioning } = fleet;
  return {
    RecordProvisioning: async (input) => provisioning.recordProvisioning(WorkerInput.parse(input)),
    Launch: async (input) => provisioning.launch(WorkerInput.parse(input)),
    AwaitAgent: async (input) => provisioning.awaitAgent(AwaitAgentInput.parse(input)),
    RecordReady: async (input) => {
      const parsed = RecordReadyInput.parse(input);
      const worker = await provisioning.recordReady(parsed);
      return { workerId: worker.workerId, state: worker.state };
    },
    TerminateInstance: async (input) => provisioning.terminateInstance(WorkerInput.parse(input)),
    RecordFailed: async (input) => {
      const { workerId, error } = RecordFailedInput.parse(input);
      const cause = typeof error.Cause === 'string' ? error.Cause : error.Cause === undefined ? undefined : JSON.stringify(error.Cause);
      return provisioning.recordFailed({ workerId, error: { Error: error.Error, ...(cause === undefined ? {} : { Cause: cause }) } });
    },
  };
}
