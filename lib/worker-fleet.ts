import { Construct } from 'constructs';
import { PROVISION_WORKER } from '../functions/declarations/statemachines.ts';
import { WORKER_CLASS_DEFINITIONS, WORKER_CLASSES, type WorkerClass } from '../functions/declarations/worker-classes.ts';
import type { FleetLaunchConfig } from '../functions/fleet/config.ts';
import { AgentBundle } from './agent-bundle.ts';
import type { FleetBinding } from './fleet-access.ts';
import { MetricsCollectorFunction } from './metrics-collector-function.ts';
import { ReaperFunction, ScalerFunction, SpotInterruptionFunction, WorkerControlFunction } from './fleet-functions.ts';
import { FleetNetwork, type ExistingWorkerNetwork } from './fleet-network.ts';
import type { JobSaga } from './job-saga.ts';
import { ProvisionWorker } from './provision-worker.ts';
import type { JobLogs } from './job-logs.ts';
import { WorkerFleetClass } from './worker-fleet-class.ts';

export interface WorkerFleetProps {
  /** Tables, queues, stack name and the two state machines' ARNs (lib/fleet-access.ts, fleetBinding). */
  readonly binding: FleetBinding;
  /** The job saga: agents answer its task tokens. */
  readonly jobSaga: JobSaga;
  /** The provisioning saga's name; binding.provisionWorkerArn is built from the same name. */
  readonly provisionWorkerName: string;
  /** @default a VPC of the fleet's own */
  readonly network?: ExistingWorkerNetwork;
  /** The agents ship jobs' output there. */
  readonly jobLogs: JobLogs;
}

const pascal = (text: string) => text.replace(/(^|-)([a-z0-9])/g, (_, __, c: string) => c.toUpperCase());

/**
 * The EC2 worker fleet (docs/fleet.md): the network, the agent bundle, per worker class an agent role and a launch
 * template, the provisioning saga (whose Launch step alone may run instances, from those templates only), and the
 * functions that keep the fleet right: worker-control (the agents' door), the scaler (every minute and on each
 * dispatch), the reaper (every five minutes) and the spot interruption handler.
 *
 * Built in dependency order: worker-control before the classes (agent roles may invoke it, the agents learn its
 * ARN), the classes before the saga (Launch needs their templates, roles and environments).
 */
export class WorkerFleet extends Construct {
  readonly network: FleetNetwork;
  readonly agentBundle: AgentBundle;
  readonly controlFunction: WorkerControlFunction;
  readonly classes: ReadonlyMap<WorkerClass, WorkerFleetClass>;
  readonly provisioning: ProvisionWorker;
  readonly scalerFunction: ScalerFunction;
  readonly reaperFunction: ReaperFunction;
  readonly spotInterruptionFunction: SpotInterruptionFunction;
  readonly metricsCollectorFunction: MetricsCollectorFunction;

  constructor(scope: Construct, id: string, props: WorkerFleetProps) {
    super(scope, id);
    const { binding } = props;
    this.network = new FleetNetwork(this, 'Network', { existing: props.network });
    this.agentBundle = new AgentBundle(this, 'AgentBundle');
    this.controlFunction = new WorkerControlFunction(this, 'WorkerControlFunction', binding);

    const classes = new Map<WorkerClass, WorkerFleetClass>();
    for (const workerClass of WORKER_CLASSES) {
      classes.set(
        workerClass,
        new WorkerFleetClass(this, `${pascal(workerClass)}Class`, {
          workerClass,
          queues: binding.queues,
          jobSaga: props.jobSaga.stateMachine,
          controlFunction: this.controlFunction.function,
          agentBundle: this.agentBundle,
          securityGroup: this.network.securityGroup,
          jobLogs: props.jobLogs,
        }),
      );
    }
    this.classes = classes;

    const fleetClasses = [...classes.values()];
    const config: FleetLaunchConfig = {
      launchTemplateIds: Object.fromEntries(fleetClasses.map((c) => [c.workerClass, c.launchTemplate.launchTemplateId!])),
      subnetIds: this.network.subnetIds,
      agentBundle: this.agentBundle.location,
      agentEnv: Object.fromEntries(fleetClasses.map((c) => [c.workerClass, { ...c.agentEnv }])),
    };
    const declaredSubnets = WORKER_CLASS_DEFINITIONS.flatMap((c) => ('subnetIds' in c ? (c.subnetIds as readonly string[]) : []));
    this.provisioning = new ProvisionWorker(this, PROVISION_WORKER.id, {
      binding,
      stateMachineName: props.provisionWorkerName,
      launch: {
        config,
        classes: fleetClasses,
        subnetIds: [...new Set([...this.network.subnetIds, ...declaredSubnets])],
        securityGroup: this.network.securityGroup,
      },
    });

    this.scalerFunction = new ScalerFunction(this, 'ScalerFunction', binding);
    this.reaperFunction = new ReaperFunction(this, 'ReaperFunction', binding);
    this.spotInterruptionFunction = new SpotInterruptionFunction(this, 'SpotInterruptionFunction', binding);
    this.metricsCollectorFunction = new MetricsCollectorFunction(this, 'MetricsCollectorFunction', binding);
  }
}
