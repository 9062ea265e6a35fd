import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { SAGA_STARTER_QUEUE } from '../functions/declarations/queues.ts';
import { JOB_SAGA, PROVISION_WORKER } from '../functions/declarations/statemachines.ts';
import type { WorkerClass } from '../functions/declarations/workers.ts';
import { ApiFunction, OpenApiFunction, WorkersApiFunction } from './api-function.ts';
import type { ForgeflowAuth } from './auth.ts';
import { WebhooksFunction } from './consumer-functions.ts';
import type { ForgeflowEventBus } from './event-bus.ts';
import { fleetBinding } from './fleet-access.ts';
import type { ExistingWorkerNetwork } from './fleet-network.ts';
import { ForgeflowHttpApi } from './http-api.ts';
import { ForgeflowConsole } from './console.ts';
import { JobSaga } from './job-saga.ts';
import type { JobLogs } from './job-logs.ts';
import { ForgeflowMonitoring } from './monitoring/monitoring.ts';
import type { ForgeflowQueues } from './queues.ts';
import { ReconcilerFunction } from './reconciler-function.ts';
import { RelayFunction } from './relay-function.ts';
import { AdmissionFunction, DispatchDlqFunction, JobControlFunction, SagaStarterFunction, WorkerReportsFunction } from './saga-consumers.ts';
import type { ForgeflowTables } from './tables.ts';
import type { WorkerAgentRole } from './worker-agent.ts';
import { WorkerFleet } from './worker-fleet.ts';

export interface ForgeflowApiStackProps extends StackProps {
  /** From the stateful stack. */
  readonly tables: ForgeflowTables;
  /** From the stateful stack. */
  readonly auth: ForgeflowAuth;
  /** From the stateful stack. */
  readonly queues: ForgeflowQueues;
  /** From the stateful stack. */
  readonly events: ForgeflowEventBus;
  /** From the stateful stack: the agents write jobs' output there, the api reads it. */
  readonly jobLogs: JobLogs;
  /** @default JOB_SAGA.name; a copy of the app (another stack prefix) needs its own name, unique per account. */
  readonly jobSagaName?: string;
  /** @default PROVISION_WORKER.name; like jobSagaName, unique per account and region. */
  readonly provisionWorkerName?: string;
  /** @default a VPC of the fleet's own */
  readonly workerNetwork?: ExistingWorkerNetwork;
}

const pascal = (text: string) => text.replace(/(^|-)([a-z0-9])/g, (_, __, c: string) => c.toUpperCase());

/**
 * The stateless side: the HTTP API and its three Lambdas (api, workers-api, openapi), the outbox relay, the event
 * consumers, the job saga (its step Lambdas and state machine) with the consumers that drive it, and the EC2 worker
 * fleet (lib/worker-fleet.ts: network, agent roles and launch templates, the provisioning saga, scaler, reaper,
 * worker-control, spot handling). It receives the tables, the user pool, the bus and the queues (dispatch queues
 * included) through props.
 *
 * The state machine lives here, beside the functions it invokes: its definition changes with their code, and an
 * update never touches running executions (each keeps the definition it started with). Tearing this stack down
 * does stop the executions in flight; their jobs stay in DynamoDB, DISPATCHED or RUNNING, for the reconciler's sweep.
 *
 * Why two stacks: the stateful stack holds only retained, deletion-protected resources and changes rarely, so
 * this stack (deployed on every code change) can be replaced, rolled back or torn down without CloudFormation
 * ever touching data. Cross-stack references are weak (cdk.json: `@aws-cdk/core:defaultCrossStackReferences`
 * = "weak"): the consumer reads the producer's outputs with Fn::GetStackOutput at deploy time, so there is no
 * export lock (with strong Export/ImportValue references an exported table name could never change while
 * imported). The risk of weak references, a consumer pointing at a deleted resource, does not arise for
 * resources that are retained and deletion-protected; CDK still orders the deploys (this stack depends on the
 * stateful one).
 */
export class ForgeflowApiStack extends Stack {
  /** The HTTP API's functions (functions/declarations/http-functions.ts): jobs and the rest, workers, the description. */
  readonly apiFunction: ApiFunction;
  readonly workersApiFunction: WorkersApiFunction;
  readonly openApiFunction: OpenApiFunction;
  readonly httpApi: ForgeflowHttpApi;
  /** The web console at /console of the same API, signing in through the user pool's hosted UI. */
  readonly console: ForgeflowConsole;
  readonly relayFunction: RelayFunction;
  readonly webhooksFunction: WebhooksFunction;
  readonly jobSaga: JobSaga;
  readonly sagaStarterFunction: SagaStarterFunction;
  readonly jobControlFunction: JobControlFunction;
  readonly workerReportsFunction: WorkerReportsFunction;
  readonly dispatchDlqFunction: DispatchDlqFunction;
  readonly reconcilerFunction: ReconcilerFunction;
  readonly admissionFunction: AdmissionFunction;
  readonly workerFleet: WorkerFleet;
  readonly agentRoles: ReadonlyMap<WorkerClass, WorkerAgentRole>;
  /** Dashboard, alarms and the alerts topic (`monitoring.alertsTopic`): every alarm of this stack notifies it. */
  readonly monitoring: ForgeflowMonitoring;

  constructor(scope: Construct, id: string, props: ForgeflowApiStackProps) {
    const { tables, auth, queues, events, jobLogs, jobSagaName = JOB_SAGA.name, provisionWorkerName = PROVISION_WORKER.name, workerNetwork, ...stackProps } = props;
    super(scope, id, {
      description: 'Forgeflow stateless: HTTP API and its Lambdas, outbox relay, event consumers, job saga, EC2 worker fleet',
      ...stackProps,
    });
    // State machine ARNs built from the names: the API and the fleet functions need them before (or without) the
    // constructs, and the provisioning saga's own steps could not reference it without a cycle.
    const fleet = fleetBinding(this, { tables, queues, jobSagaName, provisionWorkerName });

    this.apiFunction = new ApiFunction(this, 'ApiFunction', { tables, eventBus: events.bus, sagaStarterQueue: queues.get(SAGA_STARTER_QUEUE).queue, jobSagaArn: fleet.jobSagaArn, jobLogs });
    this.workersApiFunction = new WorkersApiFunction(this, 'WorkersApiFunction', { fleet });
    this.openApiFunction = new OpenApiFunction(this, 'OpenApiFunction');
    this.httpApi = new ForgeflowHttpApi(this, 'HttpApi', {
      functions: { api: this.apiFunction.function, workersApi: this.workersApiFunction.function, openApi: this.openApiFunction.function },
      userPool: auth.userPool,
      apiClient: auth.apiClient,
    });

    this.console = new ForgeflowConsole(this, 'Console', { httpApi: this.httpApi, userPool: auth.userPool });

    this.relayFunction = new RelayFunction(this, 'RelayFunction', {
      tables,
      eventBus: events.bus,
      failureQueue: queues.relayFailureQueue,
    });
    this.webhooksFunction = new WebhooksFunction(this, 'WebhooksFunction', { tables, queues });

    // The saga first: its step functions need nothing from it, the consumers below need its ARN.
    this.jobSaga = new JobSaga(this, JOB_SAGA.id, { tables, queues, stateMachineName: jobSagaName });
    const saga = this.jobSaga;
    const { stateMachine } = saga;
    this.sagaStarterFunction = new SagaStarterFunction(this, 'SagaStarterFunction', { tables, queues, saga });
    this.jobControlFunction = new JobControlFunction(this, 'JobControlFunction', { tables, queues, saga });
    this.workerReportsFunction = new WorkerReportsFunction(this, 'WorkerReportsFunction', { tables, queues, saga });
    this.dispatchDlqFunction = new DispatchDlqFunction(this, 'DispatchDlqFunction', { tables, queues, saga });
    this.reconcilerFunction = new ReconcilerFunction(this, 'ReconcilerFunction', { tables, saga });
    this.admissionFunction = new AdmissionFunction(this, 'AdmissionFunction', { tables, queues, saga });

    this.workerFleet = new WorkerFleet(this, 'WorkerFleet', { binding: fleet, jobSaga: saga, provisionWorkerName, network: workerNetwork, jobLogs });
    const agentRoles = new Map<WorkerClass, WorkerAgentRole>();
    for (const [workerClass, fleetClass] of this.workerFleet.classes) {
      agentRoles.set(workerClass, fleetClass.agent);
      new CfnOutput(this, `${pascal(workerClass)}WorkerAgentRoleArn`, {
        value: fleetClass.agent.role.roleArn,
        description: `IAM role of the ${workerClass} worker agents on EC2 (their instances use it through its instance profile)`,
      });
    }
    this.agentRoles = agentRoles;

    new CfnOutput(this, 'ApiUrl', { value: this.httpApi.stage.url, description: 'Base URL of the job API' });
    new CfnOutput(this, 'ConsoleUrl', { value: this.console.url, description: 'The web console (sign in with a user of the pool)' });
    new CfnOutput(this, 'JobSagaArn', { value: stateMachine.stateMachineArn, description: 'ARN of the job saga state machine' });
    new CfnOutput(this, 'ProvisionWorkerArn', {
      value: this.workerFleet.provisioning.stateMachine.stateMachineArn,
      description: 'ARN of the worker provisioning state machine',
    });
    new CfnOutput(this, 'WorkerVpcId', { value: this.workerFleet.network.vpc.vpcId, description: 'VPC the workers run in' });
    // Last: the dashboard graphs every function built above.
    this.monitoring = new ForgeflowMonitoring(this, 'Monitoring', { tables, queues, events, platform: this });
  }
}
