import { RecentSet } from './recent-set.ts';

/**
 * How long the local engine remembers closed executions. AWS keeps a closed Standard execution, its history and its
 * name for 90 days. The local engine kept every one for the runtime's life, each with its history (every state's
 * output): memory that grew with every job a long-running `npm start` ran. Locally, retention is by count instead:
 * - the newest `detailed` closed executions keep everything (DescribeExecution, GetExecutionHistory). The reconciler
 *   reads an ended execution's history when its end event arrives, at once, and again at the overdue sweep if that
 *   event was lost; past the window it finds the execution GONE and fails the held attempt under the job's policy,
 *   as it would in AWS after 90 days. A saga execution holds about 12 KB (1,000 jobs grew the heap 12.8 MB before
 *   this, 0.7 MB with a window of 100), so the default window costs up to about 120 MB;
 * - older ones keep only their name, so a late StartExecution with it is still refused with ExecutionAlreadyExists,
 *   as AWS refuses it within 90 days, instead of running the job's saga a second time;
 * - names older than `names` more are forgotten, as AWS forgets them after 90 days.
 */
export interface ClosedExecutionLimits {
  detailed: number;
  names: number;
}

/** At a steady job a second: the last 2.8 hours keep their histories, the names reach back 2.3 days (about 200 B each). */
export const DEFAULT_CLOSED_EXECUTION_LIMITS: ClosedExecutionLimits = { detailed: 10_000, names: 200_000 };

export class ClosedExecutionRetention {
  private readonly detailed: RecentSet<string>;
  private readonly names: RecentSet<string>;

  /** `forget` drops an execution's details from the engine once it falls out of the detailed window. */
  constructor(
    limits: ClosedExecutionLimits,
    private readonly forget: (executionArn: string) => void,
  ) {
    this.detailed = new RecentSet(limits.detailed);
    this.names = new RecentSet(limits.names);
  }

  /** Called once per execution, when it has settled. */
  closed(executionArn: string): void {
    const oldest = this.detailed.add(executionArn);
    if (oldest === undefined) return;
    this.forget(oldest);
    this.names.add(oldest);
  }

  /** True for a closed execution whose details were dropped but whose name AWS would still hold. */
  nameHeld(executionArn: string): boolean {
    return this.names.has(executionArn);
  }
}
