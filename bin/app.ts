import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { createForgeflowApp } from '../lib/forgeflow-app.ts';

// The CDK app (`npm run synth`, `cdk deploy`). Stacks are environment-agnostic: synth needs no AWS credentials,
// and `cdk deploy` targets the account and region of the credentials in use. FORGEFLOW_STACK_PREFIX (default
// "Forgeflow") names the stacks, so several copies can share an account.
const app = new App();
createForgeflowApp(app, { stackPrefix: process.env.FORGEFLOW_STACK_PREFIX || undefined });

// cdk-nag 3 is a policy validation plugin: findings land in the synth's validation report, errors fail the synth.
// Acknowledgements live next to the resources they concern, each with its reason.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));

app.synth();
