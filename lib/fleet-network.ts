import { Fn } from 'aws-cdk-lib';
import { FlowLogDestination, FlowLogTrafficType, SecurityGroup, SubnetType, Vpc, type IVpc } from 'aws-cdk-lib/aws-ec2';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** A VPC the workers should use instead of one of their own (bin/app.ts: FORGEFLOW_WORKER_VPC_ID, _SUBNET_IDS). */
export interface ExistingWorkerNetwork {
  readonly vpcId: string;
  /**
   * Subnets to launch into, tried in order. Workers need a route to the AWS APIs (SQS, Step Functions, Lambda,
   * S3): subnets that give instances a public IP and route to an internet gateway, or private subnets with a NAT
   * gateway or VPC endpoints.
   */
  readonly subnetIds: readonly string[];
}

export interface FleetNetworkProps {
  /** @default a VPC of the fleet's own */
  readonly existing?: ExistingWorkerNetwork;
}

const VPC_ID = /^vpc-[0-9a-f]{8,17}$/;
const SUBNET_ID = /^subnet-[0-9a-f]{8,17}$/;

/**
 * Where workers run. Unless the app is given a VPC: a VPC of two AZs with public subnets only, so instances get a
 * public IP and reach the AWS APIs through the internet gateway, with no NAT gateway (about $32 a month each, per
 * AZ, plus data) and no inbound path: the worker security group has no ingress rule at all, so nothing can
 * connect to a worker, while it may call out anywhere (AWS APIs, the packages and sources its jobs fetch). VPC
 * flow logs (all traffic) go to CloudWatch Logs (cdk-nag VPC7).
 *
 * The default security group keeps its default rules: restricting them takes a custom resource (a Lambda with a
 * managed-policy role), and nothing is ever placed in it; workers get the security group below.
 */
export class FleetNetwork extends Construct {
  readonly vpc: IVpc;
  readonly securityGroup: SecurityGroup;
  /** The subnets the Launch function tries for classes that declare none (FleetLaunchConfig.subnetIds). */
  readonly subnetIds: string[];
  /** Absent for an existing VPC (its flow logs are its owner's business). */
  readonly flowLogs?: LogGroup;

  constructor(scope: Construct, id: string, props: FleetNetworkProps = {}) {
    super(scope, id);
    if (props.existing) {
      const { vpcId, subnetIds } = props.existing;
      if (!VPC_ID.test(vpcId)) throw new Error(`Worker VPC id "${vpcId}" does not look like vpc-0123abcd`);
      const bad = subnetIds.filter((s) => !SUBNET_ID.test(s));
      if (subnetIds.length === 0 || bad.length > 0) throw new Error(`Worker subnet ids must be one or more subnet-0123abcd (got [${subnetIds.join(', ')}])`);
      // Only its id is used (the security group's VpcId); subnets go to the Launch function as ids.
      this.vpc = Vpc.fromVpcAttributes(this, 'Vpc', { vpcId, availabilityZones: Fn.getAzs() });
      this.subnetIds = [...subnetIds];
    } else {
      this.flowLogs = new LogGroup(this, 'FlowLogs', { retention: RetentionDays.ONE_MONTH });
      const vpc = new Vpc(this, 'Vpc', {
        maxAzs: 2,
        natGateways: 0,
        subnetConfiguration: [{ name: 'Workers', subnetType: SubnetType.PUBLIC, cidrMask: 20, mapPublicIpOnLaunch: true }],
        restrictDefaultSecurityGroup: false,
        flowLogs: { All: { destination: FlowLogDestination.toCloudWatchLogs(this.flowLogs), trafficType: FlowLogTrafficType.ALL } },
      });
      this.vpc = vpc;
      this.subnetIds = vpc.publicSubnets.map((subnet) => subnet.subnetId);
    }

    this.securityGroup = new SecurityGroup(this, 'WorkerSecurityGroup', {
      vpc: this.vpc,
      description: 'Forgeflow workers: no inbound traffic; all outbound (AWS APIs, what jobs download)',
      allowAllOutbound: true,
    });
  }
}
