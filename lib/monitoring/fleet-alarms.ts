import { Duration } from 'aws-cdk-lib';
import { ComparisonOperator, MathExpression, Stats, TreatMissingData, type Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { WorkerState } from '../../functions/core/fleet/worker-state.ts';
import { THRESHOLD_METRICS } from '../../functions/core/fleet/worker-metrics.ts';
import { resolveWorkerClass, WORKER_CLASS_DEFINITIONS } from '../../functions/declarations/worker-classes.ts';
import { failedOrTimedOut, forgeflowAlarm, mathId } from './alarm.ts';
import { platformMetric } from './platform-metrics.ts';
import { Runbook } from './runbooks.ts';

/** Below this share of READY workers passing their checks, the class has lost capacity it is paying for. */
export const HEALTHY_WORKERS_MIN_RATIO = 0.75;
/** Collector runs in a row: a worker that just turned READY may still be initialising its EC2 status checks. */
export const HEALTHY_WORKERS_PERIODS = 3;

/** Several failed provisionings in one window: one is retried by the next scaler run, repeats are a cause. */
export const PROVISIONING_PERIOD = Duration.minutes(15);
export const PROVISIONING_FAILURES_THRESHOLD = 3;

/**
 * A crossing in the last 15 minutes. The metric counts WorkerThresholdExceeded events, so the alarm clears when no
 * new crossing happened, not when the worker recovered: WorkerThresholdCleared, on the topic too, says that.
 */
export const THRESHOLD_ALERTS_PERIOD = Duration.minutes(15);

export interface FleetAlarmsProps {
  readonly provisioning: IStateMachine;
}

/** Alarms on the EC2 worker fleet: healthy share per class, provisioning failures, CPU or memory thresholds. */
export class FleetAlarms extends Construct {
  readonly alarms: Alarm[];

  constructor(scope: Construct, id: string, props: FleetAlarmsProps) {
    super(scope, id);
    const classes = WORKER_CLASS_DEFINITIONS.map((definition) => resolveWorkerClass(definition, 'aws'));
    this.alarms = [
      ...classes.map((c) => this.healthyWorkers(c.name, Duration.minutes(c.metricsIntervalMinutes))),
      this.provisioningFailures(props.provisioning),
      ...classes.map((c) => this.thresholdAlerts(c.name)),
    ];
  }

  /**
   * Both figures are gauges the collector records at each run, so the period is its interval. No READY worker is a
   * ratio of 1: the fleet scales to zero. Missing data stays missing (INSUFFICIENT_DATA, no notification): a silent
   * collector is not proof of health, and its own errors have their metric and Lambda alarms.
   */
  private healthyWorkers(workerClass: string, period: Duration): Alarm {
    return forgeflowAlarm(this, `WorkersUnhealthy-${workerClass}`, {
      summary: `Fewer than ${HEALTHY_WORKERS_MIN_RATIO * 100}% of the READY ${workerClass} workers pass their status checks and report (WorkersHealthy / FleetSize READY).`,
      runbook: Runbook.WORKERS_UNHEALTHY,
      metric: new MathExpression({
        expression: 'IF(ready > 0, healthy / ready, 1)',
        usingMetrics: {
          ready: platformMetric('FleetSize', { WorkerClass: workerClass, State: WorkerState.READY }, { statistic: Stats.AVERAGE, period }),
          healthy: platformMetric('WorkersHealthy', { WorkerClass: workerClass }, { statistic: Stats.AVERAGE, period }),
        },
        period,
        label: 'Healthy share of READY workers',
      }),
      threshold: HEALTHY_WORKERS_MIN_RATIO,
      comparison: ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: HEALTHY_WORKERS_PERIODS,
      treatMissingData: TreatMissingData.MISSING,
    });
  }

  /**
   * The provisioning saga's own executions rather than the WorkerProvisioningFailures metric: the state machine
   * counts them whatever the handlers emit, and a timed-out execution never reaches the step that would emit.
   */
  private provisioningFailures(provisioning: IStateMachine): Alarm {
    const period = PROVISIONING_PERIOD;
    return forgeflowAlarm(this, 'ProvisioningFailures', {
      summary: `${PROVISIONING_FAILURES_THRESHOLD} or more worker provisionings failed or timed out within ${period.toMinutes()} minutes.`,
      runbook: Runbook.PROVISIONING_FAILURES,
      metric: failedOrTimedOut(provisioning, period, 'Provisionings failed or timed out'),
      threshold: PROVISIONING_FAILURES_THRESHOLD,
      evaluationPeriods: 1,
    });
  }

  /** Alarms cannot SEARCH, so the sum runs over the declared threshold metrics (cpu, memory). */
  private thresholdAlerts(workerClass: string): Alarm {
    const period = THRESHOLD_ALERTS_PERIOD;
    const usingMetrics = Object.fromEntries(
      THRESHOLD_METRICS.map((metric, i) => [mathId('alerts', i), platformMetric('WorkerThresholdAlerts', { WorkerClass: workerClass, Metric: metric }, { statistic: Stats.SUM, period })]),
    );
    return forgeflowAlarm(this, `WorkerThresholds-${workerClass}`, {
      summary: `A ${workerClass} worker went over its CPU or memory threshold (WorkerThresholdAlerts); the alerts topic carries which worker and value.`,
      runbook: Runbook.WORKER_THRESHOLDS,
      metric: new MathExpression({ expression: `SUM([${Object.keys(usingMetrics).join(', ')}])`, usingMetrics, period, label: 'Threshold crossings' }),
      threshold: 1,
      evaluationPeriods: 1,
    });
  }
}
