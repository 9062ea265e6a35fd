import { Validations } from 'aws-cdk-lib';
import { WORKER_MEMORY_METRIC } from '../functions/declarations/metrics.ts';
import { InstanceProfile, PolicyDocument, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { PRIORITIES } from '../functions/core/priority.ts';
import { dispatchQueue, WORKER_REPORTS_QUEUE, type WorkerClass } from '../functions/declarations/workers.ts';
import type { AgentBundle } from './agent-bundle.ts';
import type { JobLogs } from './job-logs.ts';
import type { ForgeflowQueues } from './queues.ts';

/** What an agent does with the dispatch queues of its class (agent/poller.ts, agent/job.ts). */
export const AGENT_DISPATCH_ACTIONS = ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes'];
/** The task-token APIs: they authorise on the state machine whose execution issued the token. */
export const AGENT_TASK_ACTIONS = ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'];

export interface WorkerAgentRoleProps {
  readonly workerClass: WorkerClass;
  readonly queues: ForgeflowQueues;
  readonly stateMachine: IStateMachine;
  /** worker-control: registration, heartbeats and the scale-in handshake (functions/fleet/handlers/worker-control.ts). */
  readonly controlFunction: IFunction;
  /** The agent bundle the bootstrap script downloads. */
  readonly agentBundle: AgentBundle;
  /** The agent ships jobs' output there (the jobs themselves get no credentials). */
  readonly jobLogs: JobLogs;
}

/**
 * The IAM role of the EC2 instances that run the worker agent of one worker class, with its instance profile.
 * Agents have no database access: they take work from the dispatch queues of their class (liveness through
 * ChangeMessageVisibility, the queue's attributes for its settings), report starts to the worker reports queue,
 * answer the saga's task tokens, talk to the control plane through the worker-control function only (register,
 * heartbeat, drain), read the agent bundle at boot, and ship jobs' output to the job log group. Nothing else.
 */
export class WorkerAgentRole extends Construct {
  readonly role: Role;
  readonly instanceProfile: InstanceProfile;

  constructor(scope: Construct, id: string, props: WorkerAgentRoleProps) {
    super(scope, id);
    const dispatchQueues = PRIORITIES.map((priority) => props.queues.get(dispatchQueue(props.workerClass, priority)).queue);
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('ec2.amazonaws.com'),
      description: `Forgeflow worker agent (class ${props.workerClass}) on EC2`,
      // Inline: the role and its whole policy are one resource (the tests also check no other policy is attached).
      inlinePolicies: {
        Agent: new PolicyDocument({
          statements: [
            new PolicyStatement({ sid: 'TakeDispatches', actions: AGENT_DISPATCH_ACTIONS, resources: dispatchQueues.map((queue) => queue.queueArn) }),
            new PolicyStatement({
              sid: 'ReportStarts',
              actions: ['sqs:SendMessage'],
              resources: [props.queues.get(WORKER_REPORTS_QUEUE).queue.queueArn],
            }),
            new PolicyStatement({ sid: 'AnswerTasks', actions: AGENT_TASK_ACTIONS, resources: [props.stateMachine.stateMachineArn] }),
            // The unqualified ARN only: no alias or version, and no other function.
            new PolicyStatement({ sid: 'CallWorkerControl', actions: ['lambda:InvokeFunction'], resources: [props.controlFunction.functionArn] }),
            props.agentBundle.readStatement(),
            // CreateLogStream and PutLogEvents on the job log group's streams only.
            props.jobLogs.shipStatement(),
            // The CloudWatch agent's memory datapoints (functions/fleet/bootstrap.ts), into its namespace only.
            new PolicyStatement({
              sid: 'PublishMemoryMetrics',
              actions: ['cloudwatch:PutMetricData'],
              resources: ['*'],
              conditions: { StringEquals: { 'cloudwatch:namespace': WORKER_MEMORY_METRIC.namespace } },
            }),
          ],
        }),
      },
    });
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason: `cloudwatch:PutMetricData supports no resource-level permissions: AWS requires Resource "*". The condition cloudwatch:namespace = "${WORKER_MEMORY_METRIC.namespace}" confines it to the CloudWatch agent's namespace.`,
    });
    this.instanceProfile = new InstanceProfile(this, 'InstanceProfile', { role: this.role });
  }
}
