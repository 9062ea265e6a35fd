import * as z from 'zod';
import { JobFailureSchema, JobResultSchema } from '../core/job.ts';
import type { AdmissionService } from '../core/admission.ts';
import { JobStatus } from '../core/job-status.ts';
import type { KnownClaim, SagaService } from '../core/saga.ts';
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
 * ClaimJob is handed the execution's whole state: the spec the API started it with, or an earlier claim's dispatch
 * (a retry). Either tells what the job is, so the claim need not read it; a state that shows neither (an execution
 * the saga starter or the reconciler started) or does not parse leaves the claim to read the job.
 */
const ClaimJobInput = JobRunInput.extend({
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

const RecordSuccessInput = JobRunInput.extend({
  attempt: z.number().int().positive(),
  output: TaskSuccessSchema,
  // Absent in executions started before the claim passed its facts on; their job is read instead.
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

/** Every step; `admission` only where ParkJob runs too (the local engine, tests): each Lambda builds its own step. */
export function createSagaSteps(saga: SagaService, admission?: Pick<AdmissionService, 'park'>): Record<SagaStepName, SagaStep> {
  return {
    ClaimJob: async (input) => {
      const { state, ...run } = ClaimJobInput.parse(input);
      return saga.claim({ ...run, known: knownClaim(state) });
    },
    ParkJob: admission ? parkJobStep(admission) : () => Promise.reject(new Error('These saga steps were built without admission; ParkJob runs in its own Lambda')),
    RecordSuccess: async (input) => saga.recordSuccess(RecordSuccessInput.parse(input)),
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
