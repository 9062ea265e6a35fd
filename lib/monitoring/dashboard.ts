import { Duration } from 'aws-cdk-lib';
import { AlarmStatusWidget, Dashboard, type IAlarm } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { dispatchWidgets, fleetWidgets, heading, jobWidgets, lambdaWidgets, pipelineWidgets, sagaWidgets, tableWidgets, type Labeled } from './dashboard-widgets.ts';
import type { DispatchQueue } from './job-alarms.ts';
import type { LabeledQueue } from './pipeline-alarms.ts';

export interface ForgeflowDashboardProps {
  /** Unique per account and region: the stack's name, so every copy of the app gets its own. */
  readonly dashboardName: string;
  readonly alarms: readonly IAlarm[];
  readonly dispatchQueues: readonly DispatchQueue[];
  readonly deadLetterQueues: readonly LabeledQueue[];
  readonly functions: readonly Labeled<IFunction>[];
  readonly tables: readonly Labeled<ITable>[];
  readonly relay: IFunction;
  readonly jobSaga: IStateMachine;
  readonly provisioning: IStateMachine;
}

/** The alarm status widget lists at most this many alarms. */
const MAX_ALARMS_IN_WIDGET = 100;

/**
 * One dashboard for one copy of Forgeflow, top to bottom in the order an incident is usually read: what is alarming,
 * are jobs flowing, where do they wait, is the saga healthy, do events get through, then the building blocks
 * (Lambda, DynamoDB) and the fleet.
 */
export class ForgeflowDashboard extends Construct {
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: ForgeflowDashboardProps) {
    super(scope, id);
    this.dashboard = new Dashboard(this, 'Dashboard', { dashboardName: props.dashboardName, defaultInterval: Duration.hours(3) });
    const rows = [
      [new AlarmStatusWidget({ title: 'Alarms', alarms: props.alarms.slice(0, MAX_ALARMS_IN_WIDGET), width: 24, height: 4 })],
      [heading('Jobs')],
      jobWidgets(),
      dispatchWidgets(props.dispatchQueues),
      [heading('Sagas')],
      sagaWidgets(props.jobSaga, props.provisioning),
      [heading('Event pipeline')],
      pipelineWidgets(props.relay, props.deadLetterQueues),
      [heading('Lambda')],
      lambdaWidgets(props.functions),
      [heading('DynamoDB')],
      tableWidgets(props.tables),
      [heading('Worker fleet')],
      fleetWidgets(),
    ];
    for (const row of rows) this.dashboard.addWidgets(...row);
  }
}
