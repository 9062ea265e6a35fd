import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { createForgeflowApp } from '../lib/forgeflow-app.ts';

// The CDK app (`npm run synth`, `cdk deploy`). Stacks are environment-agnostic: synth needs no AWS credentials,
// and `cdk deploy` targets the account and region of the credentials in use. FORGEFLOW_STACK_PREFIX (default
// "Forgeflow") names the stacks, so several copies can share an account. FORGEFLOW_WORKER_VPC_ID with
// FORGEFLOW_WORKER_SUBNET_IDS (comma-separated) put the workers in an existing VPC instead of one of their own.
const app = new App();
const workerVpcId = process.env.FORGEFLOW_WORKER_VPC_ID || undefined;
const workerSubnetIds = (process.env.FORGEFLOW_WORKER_SUBNET_IDS ?? '').split(',').map((id) => id.trim()).filter(Boolean);
if (!workerVpcId !== (workerSubnetIds.length === 0)) {
  throw new Error('Set FORGEFLOW_WORKER_VPC_ID and FORGEFLOW_WORKER_SUBNET_IDS together, or neither (the workers then get a VPC of their own).');
}
createForgeflowApp(app, {
  stackPrefix: process.env.FORGEFLOW_STACK_PREFIX || undefined,
  ...(workerVpcId ? { workerNetwork: { vpcId: workerVpcId, subnetIds: workerSubnetIds } } : {}),
});

// cdk-nag 3 is a policy validation plugin: findings land in the synth's validation report, errors fail the synth.
// Acknowledgements live next to the resources they concern, each with its reason.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));

app.synth();
