import { Duration } from 'aws-cdk-lib';
import { MathExpression, Stats, type Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { chunks, forgeflowAlarm, mathId, MAX_METRICS_PER_ALARM } from './alarm.ts';
import { platformMetric } from './platform-metrics.ts';
import { Runbook } from './runbooks.ts';

/** A queue with the name a person knows it by (its declaration), since CloudFormation names the real one. */
export interface LabeledQueue {
  readonly label: string;
  readonly queue: IQueue;
}

/**
 * The event pipeline's windows. Relay and optimistic publish problems must last three 5-minute periods: the stream
 * retries a failed batch, and the relay republishes what an optimistic publish missed, so a blip heals itself.
 */
export const PIPELINE_PERIOD = Duration.minutes(5);
export const PIPELINE_PERIODS = 3;
export const RELAY_PUBLISH_ERROR_PERCENT = 1;
export const OPTIMISTIC_FAILURE_PERCENT = 10;
/** SQS publishes queue depth every minute; a dead letter waits for a person from the first one. */
export const DEAD_LETTER_PERIOD = Duration.minutes(1);

export interface EventPipelineAlarmsProps {
  readonly relay: IFunction;
  readonly outbox: ITable;
  /** Every DLQ without an alarm of its own in this stack. */
  readonly deadLetterQueues: readonly LabeledQueue[];
}

/** Failure rate in percent of two counts, 0 when there was no traffic (an idle period is healthy, not unknown). */
const failurePercent = (failures: string, total: string) => `IF(${total} > 0, 100 * ${failures} / ${total}, 0)`;

/** Alarms on the outbox → EventBridge path: relay down, relay publish errors, optimistic publish failures, lost saga starts, DLQs. */
export class EventPipelineAlarms extends Construct {
  readonly alarms: Alarm[];

  constructor(scope: Construct, id: string, props: EventPipelineAlarmsProps) {
    super(scope, id);
    this.alarms = [this.relayDown(props), this.publishErrors(), this.optimisticFailures(), this.sagaStartsLost(), ...this.deadLetters(props.deadLetterQueues)];
  }

  /**
   * The stream invokes the relay within seconds of a write, so a write without an invocation for 15 minutes means
   * the event source mapping is disabled or broken: no error metric shows it, since nothing runs. The relay's
   * IteratorAge is no help either: it is only emitted by invocations. Missing writes give no datapoint (idle).
   */
  private relayDown({ relay, outbox }: EventPipelineAlarmsProps): Alarm {
    const period = PIPELINE_PERIOD;
    return forgeflowAlarm(this, 'RelayDown', {
      summary: 'The outbox table is being written but the relay has not been invoked: events are not reaching the bus.',
      runbook: Runbook.RELAY_DOWN,
      metric: new MathExpression({
        expression: 'IF(writes > 0 AND FILL(invocations, 0) == 0, 1, 0)',
        usingMetrics: {
          writes: outbox.metricConsumedWriteCapacityUnits({ period, statistic: Stats.SUM }),
          invocations: relay.metricInvocations({ period, statistic: Stats.SUM }),
        },
        period,
        label: 'Outbox written, relay idle',
      }),
      threshold: 1,
      evaluationPeriods: PIPELINE_PERIODS,
    });
  }

  private publishErrors(): Alarm {
    const period = PIPELINE_PERIOD;
    const failures = platformMetric('RelayFailures', {}, { statistic: Stats.SUM, period });
    const relayed = platformMetric('EventsRelayed', {}, { statistic: Stats.SUM, period });
    return forgeflowAlarm(this, 'RelayPublishErrors', {
      summary: `More than ${RELAY_PUBLISH_ERROR_PERCENT}% of the relay's publishes to EventBridge fail (RelayFailures / (EventsRelayed + RelayFailures)).`,
      runbook: Runbook.RELAY_PUBLISH_ERRORS,
      metric: new MathExpression({
        expression: failurePercent('FILL(failures, 0)', '(FILL(relayed, 0) + FILL(failures, 0))'),
        usingMetrics: { failures, relayed },
        period,
        label: 'Relay publish error %',
      }),
      threshold: RELAY_PUBLISH_ERROR_PERCENT,
      evaluationPeriods: PIPELINE_PERIODS,
    });
  }

  private optimisticFailures(): Alarm {
    const period = PIPELINE_PERIOD;
    return forgeflowAlarm(this, 'OptimisticPublishFailures', {
      summary: `More than ${OPTIMISTIC_FAILURE_PERCENT}% of the API's direct publishes fail; the relay still delivers them, later.`,
      runbook: Runbook.OPTIMISTIC_PUBLISH_FAILURES,
      metric: new MathExpression({
        expression: failurePercent('FILL(failures, 0)', 'FILL(attempts, 0)'),
        usingMetrics: {
          failures: platformMetric('OptimisticPublishFailures', {}, { statistic: Stats.SUM, period }),
          attempts: platformMetric('OptimisticPublishAttempts', {}, { statistic: Stats.SUM, period }),
        },
        period,
        label: 'Optimistic publish failure %',
      }),
      threshold: OPTIMISTIC_FAILURE_PERCENT,
      evaluationPeriods: PIPELINE_PERIODS,
    });
  }

  /**
   * A run whose start the API could neither make nor hand to the saga starter: the reconciler's sweep starts it within
   * about ten minutes, so nothing is lost, but it means Step Functions and SQS failed the API together. One is enough.
   */
  private sagaStartsLost(): Alarm {
    const period = PIPELINE_PERIOD;
    return forgeflowAlarm(this, 'SagaStartsLost', {
      summary: "Job runs whose saga the API could neither start nor hand to the saga starter; the reconciler's sweep starts them late.",
      runbook: Runbook.SAGA_STARTS_LOST,
      metric: platformMetric('SagaStartsLost', {}, { statistic: Stats.SUM, period }),
      threshold: 1,
      evaluationPeriods: 1,
    });
  }

  /** The deepest of up to ten DLQs per alarm; the summary names the queues so the alarm itself says where to look. */
  private deadLetters(queues: readonly LabeledQueue[]): Alarm[] {
    return chunks(queues, MAX_METRICS_PER_ALARM).map((group, index) => {
      const usingMetrics = Object.fromEntries(
        group.map(({ queue }, i) => [mathId('dlq', i), queue.metricApproximateNumberOfMessagesVisible({ period: DEAD_LETTER_PERIOD, statistic: Stats.MAXIMUM })]),
      );
      return forgeflowAlarm(this, `DeadLetters${index + 1}`, {
        summary: `Messages are waiting in a dead-letter queue (one of: ${group.map((q) => q.label).join(', ')}).`,
        runbook: Runbook.DEAD_LETTERS,
        metric: new MathExpression({ expression: `MAX([${Object.keys(usingMetrics).join(', ')}])`, usingMetrics, period: DEAD_LETTER_PERIOD, label: 'Deepest DLQ' }),
        threshold: 1,
        evaluationPeriods: 1,
      });
    });
  }
}
