import * as z from 'zod';
import { JobFailureSchema, JobResultSchema } from '../core/job.ts';
import type { AdmissionService } from '../core/admission.ts';
import { JobStatus } from '../core/job-status.ts';
import type { DispatchQueues } from '../core/ports.ts';
import { dispatchMessage, type KnownClaim, type SagaService } from '../core/saga.ts';
import { categorizeError } from '../core/saga-failure.ts';
import { ClaimSpecSchema, JobFactsSchema, TaskSuccessSchema } from '../core/saga-messages.ts';
import { newEventId } from '../core/ids.ts';

/**
 * The saga's Lambda steps: validate what the state machine passes (the ASL's Parameters), call one SagaService
 * operation, return its result. The same functions run in Lambda (functions/saga/handlers/*) and in the local
 * engine, keyed by the `${<Step>FunctionArn}` placeholders of statemachines/job-saga.asl.json.
 */
export const SAGA_STEP_NAMES = ['ClaimJob', 'ParkJob', 'RecordSuccess', 'Categorize', 'StopWorkerProcess', 'ReleaseSlot', 'RecordFailure'] as const;
export type SagaStepName = (typeof SAGA_STEP_NAMES)[number];
export type SagaStep = (input: unknown) => Promise<unknown>;

/** The DefinitionSubstitutions key of a step's function ARN (the CDK app fills these in). */
export const functionArnKey = (step: string) => `${step}FunctionArn`;

/** What the saga starter passes to StartExecution (execution name: sagaExecutionName(jobId, run)). */
export const SagaExecutionInputSchema = z.object({
  jobId: z.string().min(1),
  run: z.number().int().positive(),
});
export type SagaExecutionInput = z.infer<typeof SagaExecutionInputSchema>;

const JobRunInput = SagaExecutionInputSchema.extend({ correlationId: z.string().min(1).optional() });

/**
 * ClaimJob is handed the execution's whole state and its task token. The state may hold the spec the API started it
 * with, which tells what the job is, so the claim need not read it; a state that does not (an execution the saga
 * starter or the reconciler started, a retry) or does not parse leaves the claim to read the job.
 *
 * Executions started on the definition before decision 0025 run on after an upgrade: their ClaimJob passes no task
 * token and its result goes to their Dispatch state, which sends the message; their state may hold the `dispatch`
 * of an earlier claim.
 */
const ClaimJobInput = JobRunInput.extend({
  taskToken: z.string().min(1).optional(),
  state: z
    .object({ spec: ClaimSpecSchema.optional(), dispatch: ClaimSpecSchema.extend({ attempt: z.number().int().positive() }).optional() })
    .optional()
    .catch(undefined),
});

function knownClaim(state: z.output<typeof ClaimJobInput>['state']): KnownClaim | undefined {
  if (state?.dispatch) {
    const { attempt, ...spec } = state.dispatch;
    return { spec, status: JobStatus.RETRY_SCHEDULED, attempts: attempt };
  }
  return state?.spec && { spec: state.spec, status: JobStatus.QUEUED, attempts: 0 };
}

const ParkJobInput = SagaExecutionInputSchema.extend({ taskToken: z.string().min(1) });

/** The attempt and facts come with the agent's answer (`output`); the form with them beside it is the one before. */
const RecordSuccessInput = JobRunInput.extend({
  attempt: z.number().int().positive().optional(),
  output: TaskSuccessSchema,
  facts: JobFactsSchema.optional(),
});

/** Lenient on purpose: Categorize must turn *any* caught error into a failure, or the saga could not compensate. */
const CategorizeInput = z.object({
  error: z
    .object({ Error: z.string().catch('States.Runtime'), Cause: z.unknown() })
    .catch({ Error: 'States.Runtime', Cause: undefined }),
});

const RecordFailureInput = JobRunInput.extend({
  categorized: z.object({ failure: JobFailureSchema, result: JobResultSchema.optional(), decisionId: z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/).optional() }),
});

/** The pure step: needs no configuration, so its Lambda reads none. */
export async function categorizeStep(input: unknown): Promise<unknown> {
  const { error } = CategorizeInput.parse(input);
  const cause = typeof error.Cause === 'string' ? error.Cause : error.Cause === undefined ? undefined : JSON.stringify(error.Cause);
  return { ...categorizeError({ Error: error.Error, ...(cause === undefined ? {} : { Cause: cause }) }), decisionId: newEventId() };
}

/** WaitForSlot's Lambda: hands the run's token to admission (see AdmissionService.park). */
export const parkJobStep =
  (admission: Pick<AdmissionService, 'park'>): SagaStep =>
  async (input) =>
    admission.park(ParkJobInput.parse(input));

/**
 * ClaimJob's Lambda: claims the attempt, then sends its dispatch with the state's task token; the state waits for the
 * agent's answer. A failed send fails the state, and the saga's failure path undoes the claim. It answers only which
 * attempt it dispatched: Step Functions keeps an invoke's response in the execution history, and the job's
 * environment has no business there twice.
 */
export const claimJobStep =
  (saga: SagaService, dispatch: DispatchQueues): SagaStep =>
  async (input) => {
    const { state, taskToken, ...run } = ClaimJobInput.parse(input);
    const payload = await saga.claim({ ...run, known: knownClaim(state) });
    if (taskToken === undefined) return payload;
    await dispatch.send(payload.queueUrl, dispatchMessage(payload, taskToken));
    return { jobId: payload.jobId, run: payload.run, attempt: payload.attempt };
  };

const builtWithout = (step: SagaStepName, dependency: string) => () =>
  Promise.reject(new Error(`These saga steps were built without ${dependency}; ${step} runs in its own Lambda`));

/**
 * Every step; `admission` and `dispatch` only where ParkJob and ClaimJob run too (the local engine, tests): each
 * Lambda builds its own step.
 */
export function createSagaSteps(saga: SagaService, options: { admission?: Pick<AdmissionService, 'park'>; dispatch?: DispatchQueues } = {}): Record<SagaStepName, SagaStep> {
  const { admission, dispatch } = options;
  return {
    ClaimJob: dispatch ? claimJobStep(saga, dispatch) : builtWithout('ClaimJob', 'dispatch queues'),
    ParkJob: admission ? parkJobStep(admission) : builtWithout('ParkJob', 'admission'),
    RecordSuccess: async (input) => {
      const { output, ...rest } = RecordSuccessInput.parse(input);
      return saga.recordSuccess({ ...rest, output, attempt: output.attempt ?? rest.attempt, facts: output.facts ?? rest.facts });
    },
    Categorize: categorizeStep,
    StopWorkerProcess: async (input) => saga.stopWorkerProcess(JobRunInput.parse(input)),
    ReleaseSlot: async (input) => saga.releaseSlot(JobRunInput.parse(input)),
    RecordFailure: async (input) => {
      const { categorized, ...run } = RecordFailureInput.parse(input);
      const outcome = await saga.recordFailure({ ...run, ...categorized });
      // Replaces the execution's state: the retry loop starts again from {jobId, run}.
      return { jobId: run.jobId, run: run.run, ...outcome };
    },
  };
}
