import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Duration, Stack } from 'aws-cdk-lib';
import type { LogGroup } from 'aws-cdk-lib/aws-logs';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { PROVISION_WORKER, stepHandlerModule } from '../functions/declarations/statemachines.ts';
import { resolveWorkerClass, WORKER_CLASS_DEFINITIONS } from '../functions/declarations/worker-classes.ts';
import { FLEET_ENV, type FleetLaunchConfig } from '../functions/fleet/config.ts';
import { PROVISION_STEP_NAMES, type ProvisionStepName } from '../functions/fleet/steps.ts';
import { functionArnKey } from '../functions/saga/steps.ts';
import { buildAslStateMachine, STATE_MACHINE_WILDCARD_REASON, taskTimeouts } from './asl-state-machine.ts';
import {
  bindFleet,
  DESCRIBE_INSTANCES_REASON,
  grantAnswerProvisioning,
  grantTerminateStackInstances,
  type FleetBinding,
  type FleetWiringOptions,
} from './fleet-access.ts';
import { ForgeflowFunction } from './lambda-function.ts';
import { DESCRIBE_IMAGES_REASON, grantLaunch, type LaunchAccessProps } from './launch-access.ts';
import { PROJECT_ROOT } from './project-root.ts';

/** `Launch` → functions/fleet/handlers/launch.ts. */
export const provisionStepEntry = (step: ProvisionStepName) => stepHandlerModule(PROVISION_WORKER, step);

const STORE_ONLY: FleetWiringOptions = { ec2: false, queueDepth: false, releaseJobs: false };
const EC2: FleetWiringOptions = { ec2: true, queueDepth: false, releaseJobs: false };

/**
 * Each step's Lambda timeout, and what its handler asks fleetFromEnv for (functions/fleet/handlers/<step>.ts).
 * Every timeout is under the TimeoutSeconds of the Task that invokes it (checked at synth, and by a test): the
 * function ends first, so Step Functions sees its error and retries it, rather than a States.Timeout.
 * Launch walks instance types, subnets and markets, waiting for EC2 tokens between calls: 50 s of its 60.
 * AwaitAgent only stores the task token: its Task times out after the class's boot deadline instead.
 */
export const PROVISION_STEPS: Record<ProvisionStepName, { timeout: Duration; wiring: FleetWiringOptions }> = {
  RecordProvisioning: { timeout: Duration.seconds(20), wiring: STORE_ONLY },
  Launch: { timeout: Duration.seconds(50), wiring: EC2 },
  AwaitAgent: { timeout: Duration.seconds(10), wiring: STORE_ONLY },
  RecordReady: { timeout: Duration.seconds(20), wiring: STORE_ONLY },
  TerminateInstance: { timeout: Duration.seconds(20), wiring: EC2 },
  RecordFailed: { timeout: Duration.seconds(20), wiring: STORE_ONLY },
};

export interface ProvisionWorkerProps {
  readonly binding: FleetBinding;
  /** Unique per account and region (see lib/forgeflow-app.ts); the binding's provisionWorkerArn is built from it. */
  readonly stateMachineName: string;
  /** What the Launch function may launch from, and the settings it reads (FLEET_LAUNCH_CONFIG). */
  readonly launch: LaunchAccessProps & { readonly config: FleetLaunchConfig };
}

/**
 * The worker provisioning saga (statemachines/provision-worker.asl.json, the file the local engine runs): one
 * Lambda per step handler in functions/fleet/handlers, and a Standard state machine, one execution per worker.
 * RecordProvisioning → Launch → AwaitAgent (waitForTaskToken: the agent's registration answers) → RecordReady;
 * on failure TerminateInstance then RecordFailed.
 *
 * Steps that use the state machine (AwaitAgent answers a token when the agent registered first) get its ARN
 * built from its name, never from the construct: the definition names the step functions, so a reference back
 * would be a dependency cycle.
 */
export class ProvisionWorker extends Construct {
  readonly steps: ReadonlyMap<ProvisionStepName, ForgeflowFunction>;
  readonly stateMachine: StateMachine;
  readonly stateMachineName: string;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: ProvisionWorkerProps) {
    super(scope, id);
    this.stateMachineName = props.stateMachineName;
    const { binding } = props;
    const timeouts = taskTimeouts(readFileSync(PROVISION_WORKER.definitionPath, 'utf8'));
    const shortestBootDeadline = Math.min(...WORKER_CLASS_DEFINITIONS.map((c) => resolveWorkerClass(c, 'aws').bootDeadlineSeconds));

    const steps = new Map<ProvisionStepName, ForgeflowFunction>();
    for (const step of PROVISION_STEP_NAMES) {
      const entry = provisionStepEntry(step);
      if (!existsSync(path.join(PROJECT_ROOT, entry))) throw new Error(`Provisioning step ${step} has no handler at ${entry}`);
      const { timeout, wiring } = PROVISION_STEPS[step];
      const limit = timeouts.get(functionArnKey(step)) ?? shortestBootDeadline;
      if (timeout.toSeconds() >= limit) throw new Error(`Provisioning step ${step}: timeout ${timeout.toSeconds()} s is not under its Task's ${limit} s`);

      const fn = new ForgeflowFunction(this, `${step}Function`, {
        entry,
        description: `Forgeflow worker provisioning step ${step}`,
        memorySize: 256,
        timeout,
        ...(step === 'Launch' ? { extraWildcardReason: DESCRIBE_IMAGES_REASON } : wiring.ec2 ? { extraWildcardReason: DESCRIBE_INSTANCES_REASON } : {}),
      });
      bindFleet(fn, binding, wiring);
      if (step === 'Launch') {
        fn.function.addEnvironment(FLEET_ENV.launch, Stack.of(this).toJsonString(props.launch.config));
        grantLaunch(fn, props.launch);
      } else if (wiring.ec2) {
        grantTerminateStackInstances(fn, binding);
      }
      if (step === 'AwaitAgent') grantAnswerProvisioning(fn, binding);
      steps.set(step, fn);
    }
    this.steps = steps;

    ({ stateMachine: this.stateMachine, logGroup: this.logGroup } = buildAslStateMachine(this, {
      definitionPath: PROVISION_WORKER.definitionPath,
      stateMachineName: props.stateMachineName,
      comment: 'Forgeflow worker provisioning: one execution per worker (statemachines/provision-worker.asl.json)',
      functions: new Map(PROVISION_STEP_NAMES.map((step) => [functionArnKey(step), steps.get(step)!.function])),
      wildcardReason: `${STATE_MACHINE_WILDCARD_REASON} The Lambda statement is scoped to the step functions; test/cdk/fleet.test.ts pins the wildcard actions.`,
    }));
  }
}
