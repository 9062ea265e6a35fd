import { Aspects, Stack } from 'aws-cdk-lib';
import type { IAlarm } from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { Topic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { PRIORITIES } from '../../functions/core/priority.ts';
import { RELAY_FAILURE_QUEUE } from '../../functions/declarations/queues.ts';
import { OUTBOX_TABLE } from '../../functions/declarations/tables.ts';
import { dispatchQueue, WORKER_CLASSES } from '../../functions/declarations/workers.ts';
import type { ForgeflowEventBus } from '../event-bus.ts';
import type { JobSaga } from '../job-saga.ts';
import { ForgeflowFunction } from '../lambda-function.ts';
import type { ForgeflowQueues } from '../queues.ts';
import type { ReconcilerFunction } from '../reconciler-function.ts';
import type { RelayFunction } from '../relay-function.ts';
import type { ForgeflowTables } from '../tables.ts';
import type { WorkerFleet } from '../worker-fleet.ts';
import { NotifyOnEveryAlarm } from './alarm-actions.ts';
import { AlertsTopic } from './alerts-topic.ts';
import { ForgeflowDashboard } from './dashboard.ts';
import type { Labeled } from './dashboard-widgets.ts';
import { FleetAlarms } from './fleet-alarms.ts';
import { JobAlarms, type DispatchQueue } from './job-alarms.ts';
import { EventPipelineAlarms, type LabeledQueue } from './pipeline-alarms.ts';
import { linkRunbook, Runbook } from './runbooks.ts';
import { ThresholdEventsRule } from './threshold-events.ts';

/** What the monitoring reads from the stateless stack (ForgeflowApiStack has all of it). */
export interface MonitoredPlatform {
  readonly relayFunction: RelayFunction;
  readonly jobSaga: JobSaga;
  readonly reconcilerFunction: ReconcilerFunction;
  readonly workerFleet: WorkerFleet;
}

export interface ForgeflowMonitoringProps {
  /** From the stateful stack. */
  readonly tables: ForgeflowTables;
  /** From the stateful stack: the dispatch queues and every DLQ. */
  readonly queues: ForgeflowQueues;
  /** From the stateful stack: the bus (threshold events) and the rule-target DLQs. */
  readonly events: ForgeflowEventBus;
  readonly platform: MonitoredPlatform;
}

/** The relay's own alarms, by construct id, and the runbook each one gets. */
const RELAY_ALARM_RUNBOOKS: Readonly<Record<string, Runbook>> = { ErrorsAlarm: Runbook.RELAY_ERRORS, IteratorAgeAlarm: Runbook.OUTBOX_LAG };

/**
 * Operations for one copy of Forgeflow (docs/decisions/0008-dashboards-and-alarms.md): the alerts topic, every alarm
 * of the stack wired to it, the alarms on the platform's own metrics, the threshold-events rule and the dashboard.
 *
 * Build it last in the stack: the dashboard graphs every ForgeflowFunction that exists when it is built. Alarms are
 * different: NotifyOnEveryAlarm reaches alarms built later too.
 *
 * The stateful stack's DLQ alarms cannot notify this topic (the stateful stack would then depend on this one, a
 * cycle), so the DeadLetters alarms here watch those DLQs again, through weak cross-stack references.
 */
export class ForgeflowMonitoring extends Construct {
  readonly alerts: AlertsTopic;
  readonly alertsTopic: Topic;
  readonly thresholdEvents: ThresholdEventsRule;
  /** Every alarm of the stack this construct made or gave a runbook to. */
  readonly alarms: readonly IAlarm[];
  readonly dashboard: ForgeflowDashboard;

  constructor(scope: Construct, id: string, props: ForgeflowMonitoringProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { relayFunction, jobSaga, workerFleet } = props.platform;
    this.alerts = new AlertsTopic(this, 'Alerts');
    this.alertsTopic = this.alerts.topic;
    Aspects.of(stack).add(new NotifyOnEveryAlarm(this.alertsTopic));
    this.thresholdEvents = new ThresholdEventsRule(this, 'ThresholdEvents', { bus: props.events.bus, alerts: this.alerts });

    const dispatchQueues = dispatchQueuesOf(props.queues);
    const statefulDlqs = statefulDeadLetterQueues(props.queues, props.events);
    const provisioning = workerFleet.provisioning.stateMachine;
    this.alarms = [
      ...adoptAlarms(props.platform),
      ...new EventPipelineAlarms(this, 'PipelineAlarms', { relay: relayFunction.function, outbox: props.tables.get(OUTBOX_TABLE).table, deadLetterQueues: statefulDlqs }).alarms,
      ...new JobAlarms(this, 'JobAlarms', { dispatchQueues, jobSaga: jobSaga.stateMachine }).alarms,
      ...new FleetAlarms(this, 'FleetAlarms', { provisioning }).alarms,
    ];

    this.dashboard = new ForgeflowDashboard(this, 'Dashboard', {
      dashboardName: stack.stackName,
      alarms: this.alarms,
      dispatchQueues,
      deadLetterQueues: [...statefulDlqs, ...ownDeadLetterQueues(props.platform)],
      functions: forgeflowFunctions(stack),
      tables: props.tables.all.map(({ definition, table }) => ({ label: definition.id, resource: table })),
      relay: relayFunction.function,
      jobSaga: jobSaga.stateMachine,
      provisioning,
    });
  }
}

/** Alarms other constructs of this stack made: they get their runbooks here (the aspect gives them the actions). */
function adoptAlarms({ relayFunction, reconcilerFunction, workerFleet }: MonitoredPlatform): IAlarm[] {
  const relay = relayFunction.alarms.filter((alarm) => alarm.node.id in RELAY_ALARM_RUNBOOKS);
  for (const alarm of relay) linkRunbook(alarm, RELAY_ALARM_RUNBOOKS[alarm.node.id]!);
  const deadLetters = [reconcilerFunction.alarm, workerFleet.spotInterruptionFunction.alarm];
  for (const alarm of deadLetters) linkRunbook(alarm, Runbook.DEAD_LETTERS);
  return [...relay, ...deadLetters];
}

function dispatchQueuesOf(queues: ForgeflowQueues): DispatchQueue[] {
  return WORKER_CLASSES.flatMap((workerClass) => PRIORITIES.map((priority) => ({ workerClass, priority, queue: queues.get(dispatchQueue(workerClass, priority)).queue })));
}

/** Every DLQ of the stateful stack: the declared queues', the relay's failure queue, the rule targets'. */
function statefulDeadLetterQueues(queues: ForgeflowQueues, events: ForgeflowEventBus): LabeledQueue[] {
  return [
    ...queues.all.map(({ definition, dlq }) => ({ label: definition.dlq.name, queue: dlq })),
    { label: RELAY_FAILURE_QUEUE.name, queue: queues.relayFailureQueue },
    ...events.all.map(({ definition, targetDlq }) => ({ label: `${definition.name}-target-dlq`, queue: targetDlq })),
  ];
}

/** This stack's own DLQs, which already have an alarm each (adopted above). */
function ownDeadLetterQueues({ reconcilerFunction, workerFleet }: MonitoredPlatform): LabeledQueue[] {
  return [
    { label: 'reconciler-target-dlq', queue: reconcilerFunction.targetDlq },
    { label: 'spot-interruption-target-dlq', queue: workerFleet.spotInterruptionFunction.targetDlq },
  ];
}

/** Every Forgeflow Lambda of the stack, labelled by its construct path below the stack (JobSaga/ClaimJob, …). */
function forgeflowFunctions(stack: Stack): Labeled<IFunction>[] {
  return stack.node
    .findAll()
    .filter((construct): construct is ForgeflowFunction => construct instanceof ForgeflowFunction)
    .map((fn) => ({ label: fn.node.path.slice(stack.node.path.length + 1).replace(/Function$/, ''), resource: fn.function }));
}
