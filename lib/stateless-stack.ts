import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { JOB_SAGA } from '../functions/declarations/statemachines.ts';
import { WORKER_CLASSES, type WorkerClass } from '../functions/declarations/workers.ts';
import { ApiFunction } from './api-function.ts';
import type { ForgeflowAuth } from './auth.ts';
import { JobHistoryFunction, WebhooksFunction } from './consumer-functions.ts';
import type { ForgeflowEventBus } from './event-bus.ts';
import { ForgeflowHttpApi } from './http-api.ts';
import { JobSaga } from './job-saga.ts';
import type { ForgeflowQueues } from './queues.ts';
import { RelayFunction } from './relay-function.ts';
import { DispatchDlqFunction, JobControlFunction, SagaStarterFunction, WorkerReportsFunction } from './saga-consumers.ts';
import type { ForgeflowTables } from './tables.ts';
import { WorkerAgentRole } from './worker-agent.ts';

export interface ForgeflowApiStackProps extends StackProps {
  /** From the stateful stack. */
  readonly tables: ForgeflowTables;
  /** From the stateful stack. */
  readonly auth: ForgeflowAuth;
  /** From the stateful stack. */
  readonly queues: ForgeflowQueues;
  /** From the stateful stack. */
  readonly events: ForgeflowEventBus;
  /** @default JOB_SAGA.name; a copy of the app (another stack prefix) needs its own name, unique per account. */
  readonly jobSagaName?: string;
}

const pascal = (text: string) => text.replace(/(^|-)([a-z0-9])/g, (_, __, c: string) => c.toUpperCase());

/**
 * The stateless side: the api Lambda with the HTTP API, the outbox relay, the event consumers, the job saga (its
 * step Lambdas and state machine) with the consumers that drive it, and the worker agents' IAM roles. It receives
 * the tables, the user pool, the bus and the queues (dispatch queues included) through props.
 *
 * The state machine lives here, beside the functions it invokes: its definition changes with their code, and an
 * update never touches running executions (each keeps the definition it started with). Tearing this stack down
 * does stop the executions in flight; their jobs stay in DynamoDB, DISPATCHED or RUNNING, for the reaper.
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
  readonly apiFunction: ApiFunction;
  readonly httpApi: ForgeflowHttpApi;
  readonly relayFunction: RelayFunction;
  readonly jobHistoryFunction: JobHistoryFunction;
  readonly webhooksFunction: WebhooksFunction;
  readonly jobSaga: JobSaga;
  readonly sagaStarterFunction: SagaStarterFunction;
  readonly jobControlFunction: JobControlFunction;
  readonly workerReportsFunction: WorkerReportsFunction;
  readonly dispatchDlqFunction: DispatchDlqFunction;
  readonly agentRoles: ReadonlyMap<WorkerClass, WorkerAgentRole>;

  constructor(scope: Construct, id: string, props: ForgeflowApiStackProps) {
    const { tables, auth, queues, events, jobSagaName, ...stackProps } = props;
    super(scope, id, {
      description: 'Forgeflow stateless: api Lambda and HTTP API, outbox relay, event consumers, job saga, worker agent roles',
      ...stackProps,
    });

    this.apiFunction = new ApiFunction(this, 'ApiFunction', { tables, eventBus: events.bus });
    this.httpApi = new ForgeflowHttpApi(this, 'HttpApi', {
      handler: this.apiFunction.function,
      userPool: auth.userPool,
      apiClient: auth.apiClient,
    });

    this.relayFunction = new RelayFunction(this, 'RelayFunction', {
      tables,
      eventBus: events.bus,
      failureQueue: queues.relayFailureQueue,
    });
    this.jobHistoryFunction = new JobHistoryFunction(this, 'JobHistoryFunction', { tables, queues });
    this.webhooksFunction = new WebhooksFunction(this, 'WebhooksFunction', { tables, queues });

    // The saga first: its step functions need nothing from it, the consumers below need its ARN.
    this.jobSaga = new JobSaga(this, JOB_SAGA.id, { tables, queues, stateMachineName: jobSagaName ?? JOB_SAGA.name });
    const saga = this.jobSaga;
    const { stateMachine } = saga;
    this.sagaStarterFunction = new SagaStarterFunction(this, 'SagaStarterFunction', { tables, queues, saga });
    this.jobControlFunction = new JobControlFunction(this, 'JobControlFunction', { tables, queues, saga });
    this.workerReportsFunction = new WorkerReportsFunction(this, 'WorkerReportsFunction', { tables, queues, saga });
    this.dispatchDlqFunction = new DispatchDlqFunction(this, 'DispatchDlqFunction', { tables, queues, saga });

    const agentRoles = new Map<WorkerClass, WorkerAgentRole>();
    for (const workerClass of WORKER_CLASSES) {
      const agent = new WorkerAgentRole(this, `${pascal(workerClass)}WorkerAgent`, { workerClass, queues, stateMachine });
      agentRoles.set(workerClass, agent);
      new CfnOutput(this, `${pascal(workerClass)}WorkerAgentRoleArn`, {
        value: agent.role.roleArn,
        description: `IAM role of the ${workerClass} worker agents on EC2 (their instances use it through its instance profile)`,
      });
    }
    this.agentRoles = agentRoles;

    new CfnOutput(this, 'ApiUrl', { value: this.httpApi.stage.url, description: 'Base URL of the job API' });
    new CfnOutput(this, 'JobSagaArn', { value: stateMachine.stateMachineArn, description: 'ARN of the job saga state machine' });
  }
}
