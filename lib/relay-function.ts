import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, Stats, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { FilterCriteria, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { EVENT_BUS } from '../functions/declarations/events.ts';
import { JOB_EVENT_STREAM_FILTER, OUTBOX_EVENT_STREAM_FILTER } from '../functions/adapters/dynamodb/outbox-item.ts';
import { JOBS_TABLE, OUTBOX_TABLE } from '../functions/declarations/tables.ts';
import { ForgeflowFunction } from './lambda-function.ts';
import { bindTable } from './table-access.ts';
import type { ForgeflowTables } from './tables.ts';

export const RELAY_SERVICE_NAME = 'forgeflow-relay';

/**
 * How the outbox stream (and, the same way, the jobs stream) is read. Order matters per job, so one batch per shard at
 * a time (parallelization 1). A failing record is retried a bounded number of times, with the batch bisected to isolate it, and only the
 * records from the first failure on are retried (the handler reports batch item failures). A record that still
 * fails, or waits longer than an hour, goes to the failure queue instead of blocking its shard for the stream's
 * 24 hours. An hour is far beyond any PutEvents outage we retry through, and the event stays in the outbox table.
 */
export const RELAY_STREAM = {
  startingPosition: StartingPosition.TRIM_HORIZON,
  batchSize: 100,
  parallelizationFactor: 1,
  bisectBatchOnError: true,
  retryAttempts: 3,
  maxRecordAge: Duration.hours(1),
  reportBatchItemFailures: true,
} as const;

/** The relay is behind when its oldest unread record is this old (the optimistic publish hides it from users). */
export const RELAY_ITERATOR_AGE_ALARM = Duration.minutes(5);

export interface RelayFunctionProps {
  readonly tables: ForgeflowTables;
  readonly eventBus: IEventBus;
  readonly failureQueue: IQueue;
}

/**
 * The outbox relay (functions/relay/handler.ts): the outbox table's stream → PutEvents on the Forgeflow bus, and the
 * jobs table's stream, filtered to the writes that carry an event, → the outbox (as rows already relayed) and the bus
 * (decision 0022). It reads no table through the DynamoDB API: it gets the two streams (through the event source
 * mappings), BatchWriteItem on the outbox, PutEvents on the bus, and SendMessage to its failure queue.
 */
export class RelayFunction extends ForgeflowFunction {
  readonly alarms: Alarm[];

  constructor(scope: Construct, id: string, props: RelayFunctionProps) {
    super(scope, id, {
      entry: 'functions/relay/handler.ts',
      description: 'Forgeflow outbox relay: outbox stream to EventBridge, events carried by job writes to the outbox and EventBridge',
      serviceName: RELAY_SERVICE_NAME,
      memorySize: 256,
      // A batch of 100 records is ten PutEvents calls in parallel, each retried a few times within milliseconds.
      timeout: Duration.seconds(30),
      extraWildcardReason:
        'DynamoEventSource grants dynamodb:ListStreams on "*" (Table.grantStreamRead); ListStreams returns only ' +
        'stream ARNs and table names. Reading records (DescribeStream, GetShardIterator, GetRecords) is scoped to ' +
        "the outbox and jobs tables' stream ARNs.",
    });

    this.function.addEnvironment(EVENT_BUS.envVar, props.eventBus.eventBusName);
    props.eventBus.grantPutEventsTo(this.function);

    const outbox = props.tables.get(OUTBOX_TABLE);
    bindTable(this.function, outbox, 'batchAppend');
    // Lambda drops, before invoking, the outbox records that hold no event to publish (the relay's own appends, TTL
    // deletions) and the job writes that carry none: most of both streams costs nothing.
    const outboxEvents = { ...RELAY_STREAM, filters: [FilterCriteria.filter(OUTBOX_EVENT_STREAM_FILTER)], onFailure: new SqsDlq(props.failureQueue) };
    this.function.addEventSource(new DynamoEventSource(outbox.table, outboxEvents));
    const jobEvents = { ...RELAY_STREAM, filters: [FilterCriteria.filter(JOB_EVENT_STREAM_FILTER)], onFailure: new SqsDlq(props.failureQueue) };
    this.function.addEventSource(new DynamoEventSource(props.tables.get(JOBS_TABLE).table, jobEvents));

    this.alarms = [
      new Alarm(this, 'ErrorsAlarm', {
        alarmDescription: 'The outbox relay failed whole invocations (timeouts, crashes, configuration errors).',
        metric: this.function.metricErrors({ period: Duration.minutes(5), statistic: Stats.SUM }),
        threshold: 0,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
      new Alarm(this, 'IteratorAgeAlarm', {
        alarmDescription: `The outbox relay is more than ${RELAY_ITERATOR_AGE_ALARM.toMinutes()} minutes behind the outbox or jobs stream.`,
        metric: this.function.metric('IteratorAge', { period: Duration.minutes(1), statistic: Stats.MAXIMUM }),
        threshold: RELAY_ITERATOR_AGE_ALARM.toMilliseconds(),
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    ];
  }
}
