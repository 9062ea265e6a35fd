import { Stack } from 'aws-cdk-lib';
import type { ISecurityGroup } from 'aws-cdk-lib/aws-ec2';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { WORKER_CLASS_DEFINITIONS, type AmiSource, type WorkerClassDefinition } from '../functions/declarations/worker-classes.ts';
import { acknowledgeWildcardResource, nagArn } from './fleet-access.ts';
import type { ForgeflowFunction } from './lambda-function.ts';
import type { WorkerFleetClass } from './worker-fleet-class.ts';

/** Passed as extraWildcardReason by the Launch function. */
export const DESCRIBE_IMAGES_REASON =
  'ec2:DescribeImages supports no resource-level permissions: AWS requires Resource "*". It only reads image ' +
  "metadata (the AMI's id and root device name); launching is restricted to this stack's launch templates.";

/** The root volume every launch asks for (worker-provider.ts); RunInstances is refused for any other. */
export const WORKER_VOLUME = { encrypted: true, volumeType: 'gp3' } as const;

export interface LaunchAccessProps {
  readonly classes: readonly WorkerFleetClass[];
  /** Every subnet a launch may name: the fleet's own and those the classes declare. */
  readonly subnetIds: readonly string[];
  readonly securityGroup: ISecurityGroup;
  /** @default WORKER_CLASS_DEFINITIONS */
  readonly definitions?: readonly WorkerClassDefinition[];
}

/** The SSM parameters the classes' AMI sources name: public ones (/aws/service/...) have no account in their ARN. */
export function amiParameterArns(stack: Stack, classes: readonly WorkerFleetClass[], definitions: readonly WorkerClassDefinition[] = WORKER_CLASS_DEFINITIONS): string[] {
  const names = new Set<string>();
  for (const { workerClass } of classes) {
    const definition = definitions.find((d) => d.name === workerClass);
    if (!definition) throw new Error(`Worker class ${workerClass} is not declared`);
    for (const source of Object.values(definition.amis) as AmiSource[]) if ('ssmParameter' in source) names.add(source.ssmParameter);
  }
  return [...names].sort().map((name) =>
    stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: name.replace(/^\//, ''), ...(name.startsWith('/aws/service/') ? { account: '' } : {}) }),
  );
}

/**
 * What the Launch function may do, and nothing more (functions/adapters/ec2/worker-provider.ts, images.ts):
 *
 * - RunInstances only from this stack's launch templates: on the templates themselves, and on every other resource
 *   a launch creates or uses (instance, network interface, volume, spot request, image, subnet, security group)
 *   only with `ArnLike ec2:LaunchTemplate` = one of the templates. Subnets and the security group are named
 *   exactly; the rest are created by the launch, so their ids are unknown. Volumes also need
 *   `ec2:Encrypted` = true and `ec2:VolumeType` = gp3, what the provider always asks for.
 * - CreateTags only as part of a RunInstances (the instance and volume tags of TagSpecifications).
 * - iam:PassRole on the agent roles only, and only to EC2 (the launch template's instance profile).
 * - iam:CreateServiceLinkedRole for EC2 Spot's own role only: the first spot launch in an account creates it.
 * - DescribeImages (unscopable) and ssm:GetParameter on exactly the parameters the classes' AMI sources name.
 */
export function grantLaunch(fn: ForgeflowFunction, props: LaunchAccessProps): void {
  const stack = Stack.of(fn);
  const ec2 = (resource: string, account?: string) => stack.formatArn({ service: 'ec2', resource, ...(account === undefined ? {} : { account }) });
  const templates = props.classes.map((c) => c.launchTemplateArn);
  const fromTemplates = { ArnLike: { 'ec2:LaunchTemplate': templates } };
  const created = ['instance/*', 'network-interface/*', 'spot-instances-request/*'].map((r) => ec2(r));

  fn.function.addToRolePolicy(new PolicyStatement({ sid: 'LaunchFromStackTemplates', actions: ['ec2:RunInstances'], resources: templates }));
  fn.function.addToRolePolicy(
    new PolicyStatement({
      sid: 'LaunchTemplateResources',
      actions: ['ec2:RunInstances'],
      resources: [
        ...created,
        ec2('image/*', ''),
        ...props.subnetIds.map((id) => ec2(`subnet/${id}`)),
        ec2(`security-group/${props.securityGroup.securityGroupId}`),
      ],
      conditions: fromTemplates,
    }),
  );
  fn.function.addToRolePolicy(
    new PolicyStatement({
      sid: 'LaunchEncryptedGp3Volumes',
      actions: ['ec2:RunInstances'],
      resources: [ec2('volume/*')],
      conditions: { ...fromTemplates, Bool: { 'ec2:Encrypted': String(WORKER_VOLUME.encrypted) }, StringEquals: { 'ec2:VolumeType': WORKER_VOLUME.volumeType } },
    }),
  );
  fn.function.addToRolePolicy(
    new PolicyStatement({
      sid: 'TagAtLaunch',
      actions: ['ec2:CreateTags'],
      resources: [ec2('instance/*'), ec2('volume/*')],
      conditions: { StringEquals: { 'ec2:CreateAction': 'RunInstances' } },
    }),
  );
  fn.function.addToRolePolicy(
    new PolicyStatement({
      sid: 'PassAgentRoles',
      actions: ['iam:PassRole'],
      resources: props.classes.map((c) => c.agent.role.roleArn),
      conditions: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
    }),
  );
  fn.function.addToRolePolicy(
    new PolicyStatement({
      sid: 'CreateSpotServiceLinkedRole',
      actions: ['iam:CreateServiceLinkedRole'],
      resources: [stack.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: 'aws-service-role/spot.amazonaws.com/AWSServiceRoleForEC2Spot' })],
      conditions: { StringEquals: { 'iam:AWSServiceName': 'spot.amazonaws.com' } },
    }),
  );
  fn.function.addToRolePolicy(new PolicyStatement({ sid: 'DescribeImages', actions: ['ec2:DescribeImages'], resources: ['*'] }));
  const parameters = amiParameterArns(stack, props.classes, props.definitions);
  if (parameters.length > 0) fn.function.addToRolePolicy(new PolicyStatement({ sid: 'ReadAmiParameters', actions: ['ssm:GetParameter'], resources: parameters }));

  const launchOnly = 'and only with the condition ec2:LaunchTemplate = one of the launch templates of this stack';
  const wildcards: [string, string][] = [
    [nagArn('ec2', 'instance/*'), `RunInstances creates the instance, whose id is unknown before, ${launchOnly}; CreateTags on it only within RunInstances (ec2:CreateAction).`],
    [nagArn('ec2', 'volume/*'), `RunInstances creates the root volume, whose id is unknown before, ${launchOnly}, encrypted and gp3; CreateTags on it only within RunInstances (ec2:CreateAction).`],
    [nagArn('ec2', 'network-interface/*'), `RunInstances creates the instance's network interface, whose id is unknown before, ${launchOnly}.`],
    [nagArn('ec2', 'spot-instances-request/*'), `A spot launch creates a one-time spot request, whose id is unknown before, ${launchOnly}.`],
    [nagArn('ec2', 'image/*', ''), `AMIs are resolved at launch (SSM parameters, newest by name), so their ids are unknown at deploy time; RunInstances may use one ${launchOnly}.`],
  ];
  for (const [resource, reason] of wildcards) acknowledgeWildcardResource(fn, resource, reason);
}
