import { Duration } from 'aws-cdk-lib';
import { MathExpression, Stats, type Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { Priority } from '../../functions/core/priority.ts';
import { resolveWorkerClass, WORKER_CLASS_DEFINITIONS } from '../../functions/declarations/worker-classes.ts';
import { failedOrTimedOut, forgeflowAlarm } from './alarm.ts';
import { platformMetric } from './platform-metrics.ts';
import { Runbook } from './runbooks.ts';

/** A dispatch queue with the class and priority it serves. */
export interface DispatchQueue {
  readonly workerClass: string;
  readonly priority: Priority;
  readonly queue: IQueue;
}

/**
 * p99 from submission to SUCCEEDED, per priority. It includes the command's own run time (the default job timeout
 * is an hour), so the budgets leave critical and high little room for queueing over short jobs and give medium and
 * low an hour-long job plus its wait. Tune them to the workload; they are not SLOs of the platform alone.
 */
export const END_TO_END_P99_BUDGET: Readonly<Record<Priority, Duration>> = {
  critical: Duration.minutes(15),
  high: Duration.minutes(30),
  medium: Duration.minutes(90),
  low: Duration.hours(3),
};
/** Two 15-minute periods: one slow job is one period's p99 at low volume, not a trend. */
export const LATENCY_PERIOD = Duration.minutes(15);
export const LATENCY_PERIODS = 2;

export const DISPATCH_PERIOD = Duration.minutes(5);
/** Room the scaler needs before a queue with work but no worker is a problem: a scaler run plus a worker's boot. */
const SCALE_UP_SLACK_SECONDS = 600;

/** Periods of DISPATCH_PERIOD a queue may hold work with nothing received: longer than a cold start from zero workers. */
export function dispatchStalledPeriods(workerClass: string): number {
  const definition = WORKER_CLASS_DEFINITIONS.find((c) => c.name === workerClass);
  if (!definition) throw new Error(`No worker class is named "${workerClass}"`);
  const { bootDeadlineSeconds } = resolveWorkerClass(definition, 'aws');
  return Math.ceil((bootDeadlineSeconds + SCALE_UP_SLACK_SECONDS) / DISPATCH_PERIOD.toSeconds());
}

export const SAGA_PERIOD = Duration.minutes(5);

export interface JobAlarmsProps {
  readonly dispatchQueues: readonly DispatchQueue[];
  readonly jobSaga: IStateMachine;
}

/** Alarms on jobs: end-to-end latency, dispatch queues nobody takes from, saga executions that end abnormally. */
export class JobAlarms extends Construct {
  readonly alarms: Alarm[];

  constructor(scope: Construct, id: string, props: JobAlarmsProps) {
    super(scope, id);
    this.alarms = [
      ...props.dispatchQueues.map((dispatch) => this.endToEndLatency(dispatch)),
      ...props.dispatchQueues.map((dispatch) => this.dispatchStalled(dispatch)),
      this.sagaExecutions(props.jobSaga),
    ];
  }

  private endToEndLatency({ workerClass, priority }: DispatchQueue): Alarm {
    const budget = END_TO_END_P99_BUDGET[priority];
    return forgeflowAlarm(this, `EndToEndLatency-${workerClass}-${priority}`, {
      summary: `p99 end-to-end latency of ${workerClass}/${priority} jobs is above ${budget.toHumanString()} (submission to SUCCEEDED).`,
      runbook: Runbook.END_TO_END_LATENCY,
      metric: platformMetric('EndToEndLatency', { WorkerClass: workerClass, Priority: priority }, { statistic: Stats.p(99), period: LATENCY_PERIOD }),
      threshold: budget.toMilliseconds(),
      evaluationPeriods: LATENCY_PERIODS,
    });
  }

  /**
   * Work waiting all period long (the minimum depth above zero) while no message was received: no agent polls the
   * queue. Agents poll every priority of their class, low at least once in 15 picks, so a healthy fleet always
   * receives; a fleet at its maximum with every slot busy also trips it, which is worth knowing too.
   */
  private dispatchStalled({ workerClass, priority, queue }: DispatchQueue): Alarm {
    const period = DISPATCH_PERIOD;
    const periods = dispatchStalledPeriods(workerClass);
    return forgeflowAlarm(this, `DispatchStalled-${workerClass}-${priority}`, {
      summary: `The ${workerClass}/${priority} dispatch queue has held jobs for ${periods * period.toMinutes()} minutes and no worker received any.`,
      runbook: Runbook.DISPATCH_STALLED,
      metric: new MathExpression({
        expression: 'IF(visible > 0 AND FILL(received, 0) == 0, 1, 0)',
        usingMetrics: {
          visible: queue.metricApproximateNumberOfMessagesVisible({ period, statistic: Stats.MINIMUM }),
          received: queue.metricNumberOfMessagesReceived({ period, statistic: Stats.SUM }),
        },
        period,
        label: 'Waiting, none received',
      }),
      threshold: 1,
      evaluationPeriods: periods,
    });
  }

  /**
   * A job's failure ends its execution SUCCEEDED (it is data on the job), so any FAILED or TIMED_OUT execution is
   * the saga itself going wrong: SuccessNotRecorded, a step that kept failing, the data limit. The reconciler repairs
   * the job; a person must find out why it happened.
   */
  private sagaExecutions(saga: IStateMachine): Alarm {
    const period = SAGA_PERIOD;
    return forgeflowAlarm(this, 'SagaExecutionsFailing', {
      summary: 'Job saga executions failed or timed out (ExecutionsFailed + ExecutionsTimedOut).',
      runbook: Runbook.SAGA_EXECUTIONS_FAILING,
      metric: failedOrTimedOut(saga, period, 'Failed or timed out'),
      threshold: 1,
      evaluationPeriods: 1,
    });
  }
}
