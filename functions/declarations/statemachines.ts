import { fileURLToPath } from 'node:url';

/** The job saga: one Standard execution per job run, named so that a repeated start is harmless. */
export const JOB_SAGA = {
  id: 'JobSaga',
  name: 'forgeflow-job-saga',
  envVar: 'JOB_SAGA_ARN',
  definitionPath: fileURLToPath(new URL('../../statemachines/job-saga.asl.json', import.meta.url)),
  /** Where the Lambda entry of each `${<Step>FunctionArn}` lives, relative to the project root. */
  handlersDir: 'functions/saga/handlers',
} as const;

/** The worker provisioning saga: one Standard execution per worker, named after it (a repeated start is harmless). */
export const PROVISION_WORKER = {
  id: 'ProvisionWorker',
  name: 'forgeflow-provision-worker',
  envVar: 'PROVISION_WORKER_ARN',
  definitionPath: fileURLToPath(new URL('../../statemachines/provision-worker.asl.json', import.meta.url)),
  handlersDir: 'functions/fleet/handlers',
} as const;

/** `ClaimJob` → `<handlersDir>/claim-job.ts`: the one mapping from a step name to its Lambda entry (CDK and local). */
export const stepHandlerModule = (machine: { handlersDir: string }, step: string) =>
  `${machine.handlersDir}/${step.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase()}.ts`;

/** Execution names allow 80 characters of [A-Za-z0-9-_]; a job id is 36, so the run number fits. */
export const sagaExecutionName = (jobId: string, run: number) => `${jobId}-run-${run}`;

/** A run the reconciler moved to a new execution after its own ended abnormally: the n-th such move. */
export const resumedExecutionName = (jobId: string, run: number, resume: number) => `${sagaExecutionName(jobId, run)}-r${resume}`;

/** The job run an execution belongs to, from its name (either form above); undefined for any other name. */
export function parseSagaExecutionName(name: string): { jobId: string; run: number } | undefined {
  const match = /^(.+)-run-(\d+)(?:-r\d+)?$/.exec(name);
  return match ? { jobId: match[1]!, run: Number(match[2]) } : undefined;
}

/** The ARN of one execution, from its state machine's ARN (the format AWS uses). */
export const executionArnOf = (stateMachineArn: string, name: string) =>
  `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
