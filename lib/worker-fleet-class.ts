import { Aws, Stack, Tags } from 'aws-cdk-lib';
import { InstanceInitiatedShutdownBehavior, LaunchTemplate, LaunchTemplateHttpTokens, type ISecurityGroup } from 'aws-cdk-lib/aws-ec2';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { PRIORITIES } from '../functions/core/priority.ts';
import { AGENT_FLEET_ENV, dispatchQueue, WORKER_REPORTS_QUEUE, type WorkerClass } from '../functions/declarations/workers.ts';
import type { AgentBundle } from './agent-bundle.ts';
import type { ForgeflowQueues } from './queues.ts';
import { WorkerAgentRole } from './worker-agent.ts';
import type { JobLogs } from './job-logs.ts';

/** The variable that names the worker-control function to the agent (the agent invokes it by this ARN). */
export const AGENT_CONTROL_FUNCTION_ENV = AGENT_FLEET_ENV.controlFunction;

export interface WorkerFleetClassProps {
  readonly workerClass: WorkerClass;
  readonly queues: ForgeflowQueues;
  /** The job saga, whose task tokens the agents answer. */
  readonly jobSaga: IStateMachine;
  readonly controlFunction: IFunction;
  readonly agentBundle: AgentBundle;
  readonly securityGroup: ISecurityGroup;
  /** Where the agents ship jobs' output. */
  readonly jobLogs: JobLogs;
}

/**
 * What one worker class runs on: the agents' role and instance profile, and the launch template every RunInstances
 * of the class names (the Launch function may launch from these templates only).
 *
 * The template fixes what must hold for every worker: IMDSv2 only, with a hop limit of 1 (a container on the
 * instance cannot reach the credentials) and instance tags readable through IMDS; the instance profile; the worker
 * security group; an OS shutdown terminates the instance (the agent powers off after a drain, and a stopped
 * worker would only cost money); basic monitoring (detailed monitoring is about $2.10 per instance and month).
 * It fixes nothing that varies per launch: AMI, instance type, subnet, market, root volume and user data come
 * with each RunInstances (functions/adapters/ec2/worker-provider.ts).
 */
export class WorkerFleetClass extends Construct {
  readonly workerClass: WorkerClass;
  readonly agent: WorkerAgentRole;
  readonly launchTemplate: LaunchTemplate;
  /** `arn:…:launch-template/<id>`: the value of the ec2:LaunchTemplate condition key for launches from it. */
  readonly launchTemplateArn: string;
  /** The agent's environment (FleetLaunchConfig.agentEnv[class]): queue URLs, worker-control, the region, the job log group. */
  readonly agentEnv: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: WorkerFleetClassProps) {
    super(scope, id);
    this.workerClass = props.workerClass;
    this.agent = new WorkerAgentRole(this, 'Agent', {
      workerClass: props.workerClass,
      queues: props.queues,
      stateMachine: props.jobSaga,
      controlFunction: props.controlFunction,
      agentBundle: props.agentBundle,
      jobLogs: props.jobLogs,
    });

    this.launchTemplate = new LaunchTemplate(this, 'LaunchTemplate', {
      versionDescription: `Forgeflow ${props.workerClass} workers`,
      httpEndpoint: true,
      httpTokens: LaunchTemplateHttpTokens.REQUIRED,
      httpPutResponseHopLimit: 1,
      instanceMetadataTags: true,
      instanceProfile: this.agent.instanceProfile,
      securityGroup: props.securityGroup,
      instanceInitiatedShutdownBehavior: InstanceInitiatedShutdownBehavior.TERMINATE,
      detailedMonitoring: false,
    });
    // The L2 tags the template, its instances and volumes with Name = its construct path. Instances carry the
    // tags the provider gives at launch (forgeflow:stack, :class, :worker-id); a path would only mislead.
    Tags.of(this.launchTemplate).remove('Name');
    this.launchTemplateArn = Stack.of(this).formatArn({ service: 'ec2', resource: 'launch-template', resourceName: this.launchTemplate.launchTemplateId! });

    this.agentEnv = {
      [AGENT_CONTROL_FUNCTION_ENV]: props.controlFunction.functionArn,
      AWS_REGION: Aws.REGION,
      ...Object.fromEntries(
        PRIORITIES.map((priority) => {
          const { definition, queue } = props.queues.get(dispatchQueue(props.workerClass, priority));
          return [definition.envVar, queue.queueUrl];
        }),
      ),
      [WORKER_REPORTS_QUEUE.envVar]: props.queues.get(WORKER_REPORTS_QUEUE).queue.queueUrl,
      ...props.jobLogs.agentEnv(),
    };
  }
}
