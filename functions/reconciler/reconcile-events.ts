import type { Logger } from '@aws-lambda-powertools/logger';
import * as z from 'zod';
import type { JobReconciler, ReconcileOutcome } from '../core/reconciler.ts';
import { parseSagaExecutionName } from '../declarations/statemachines.ts';

/** The detail type Step Functions sends to the default bus when an execution changes status. */
export const EXECUTION_STATUS_CHANGE = 'Step Functions Execution Status Change';
/** The ends the reconciler repairs; SUCCEEDED executions always leave their job consistent (see the ASL). */
export const ABNORMAL_END_STATUSES = ['FAILED', 'TIMED_OUT', 'ABORTED'] as const;

const ExecutionStatusChangeSchema = z.object({
  'detail-type': z.literal(EXECUTION_STATUS_CHANGE),
  detail: z.object({
    name: z.string().min(1).max(80),
    status: z.enum(ABNORMAL_END_STATUSES),
    error: z.string().nullish(),
    cause: z.string().nullish(),
  }),
});

/** What EventBridge Scheduler sends: the sweep. */
const ScheduledSweepSchema = z.object({}).strict();

export type ReconcilerResult = { kind: 'execution'; name: string; outcome: ReconcileOutcome | 'not-a-job-run' } | { kind: 'sweep'; swept: number; outcomes: Partial<Record<ReconcileOutcome, number>> };

/**
 * The reconciler's one entry: an execution status-change event (EventBridge rule) or the scheduled sweep. An event
 * it cannot read is an error (the rule's DLQ keeps it for an operator), never silently dropped.
 */
export function createReconcilerHandler(reconciler: JobReconciler, logger: Pick<Logger, 'info' | 'warn'>) {
  return async (event: unknown): Promise<ReconcilerResult> => {
    if (ScheduledSweepSchema.safeParse(event).success) {
      const report = await reconciler.sweepOverdue();
      logger.info('overdue sweep done', { ...report });
      return { kind: 'sweep', ...report };
    }
    const parsed = ExecutionStatusChangeSchema.safeParse(event);
    if (!parsed.success) throw new Error(`Not an execution status change or a scheduled sweep: ${z.prettifyError(parsed.error)}`);
    const { name, status, error, cause } = parsed.data.detail;
    const run = parseSagaExecutionName(name);
    if (!run) {
      logger.warn('execution of the job saga with a name no job run has; ignored', { name });
      return { kind: 'execution', name, outcome: 'not-a-job-run' };
    }
    const outcome = await reconciler.executionEnded(run.jobId, run.run, { name, status, ...(error ? { error } : {}), ...(cause ? { cause } : {}) });
    logger.info('execution end reconciled', { name, status, error, outcome });
    return { kind: 'execution', name, outcome };
  };
}
