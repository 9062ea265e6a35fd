import type { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, MathExpression, Stats, TreatMissingData, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { describeAlarm, type Runbook } from './runbooks.ts';

export interface ForgeflowAlarmProps {
  readonly metric: IMetric;
  /** One sentence: what is wrong, in the operator's terms. The runbook link is appended. */
  readonly summary: string;
  readonly runbook: Runbook;
  readonly threshold: number;
  /** @default GREATER_THAN_OR_EQUAL_TO_THRESHOLD */
  readonly comparison?: ComparisonOperator;
  readonly evaluationPeriods: number;
  /** @default evaluationPeriods: every period of the window must breach */
  readonly datapointsToAlarm?: number;
  /**
   * @default NOT_BREACHING: most Forgeflow metrics are only emitted when something happens, so no data means
   * nothing happened. Alarms where silence is not health say so.
   */
  readonly treatMissingData?: TreatMissingData;
}

/**
 * An alarm as every Forgeflow alarm is built: its description ends with its runbook, and no physical name, so
 * copies of the app (stack prefixes) never collide. Its SNS actions come from NotifyOnEveryAlarm (alarm-actions.ts),
 * which covers alarms built elsewhere in the stack too.
 */
export function forgeflowAlarm(scope: Construct, id: string, props: ForgeflowAlarmProps): Alarm {
  return new Alarm(scope, id, {
    alarmDescription: describeAlarm(props.summary, props.runbook),
    metric: props.metric,
    threshold: props.threshold,
    comparisonOperator: props.comparison ?? ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: props.evaluationPeriods,
    datapointsToAlarm: props.datapointsToAlarm ?? props.evaluationPeriods,
    treatMissingData: props.treatMissingData ?? TreatMissingData.NOT_BREACHING,
  });
}

/** A state machine's executions that failed or timed out, summed per period (both mean the machine went wrong). */
export function failedOrTimedOut(machine: IStateMachine, period: Duration, label: string): MathExpression {
  return new MathExpression({
    expression: 'SUM([failed, timedOut])',
    usingMetrics: {
      failed: machine.metricFailed({ period, statistic: Stats.SUM }),
      timedOut: machine.metricTimedOut({ period, statistic: Stats.SUM }),
    },
    period,
    label,
  });
}

/** Metric math ids must start with a lowercase letter and be unique within one alarm. */
export const mathId = (prefix: string, index: number) => `${prefix}${index}`;

/**
 * CloudWatch evaluates a metric-math alarm over at most 10 metrics: longer lists are split into alarms of that size.
 */
export const MAX_METRICS_PER_ALARM = 10;

export function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let i = 0; i < items.length; i += size) result.push(items.slice(i, i + size));
  return result;
}
