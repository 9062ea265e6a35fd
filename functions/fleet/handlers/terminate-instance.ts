import { createProvisionSteps } from '../steps.ts';
import { fleetFromEnv } from '../wiring.ts';

/** Lambda entry of the provisioning saga's TerminateInstance state: configuration is read once, here, at cold start. */
const steps = createProvisionSteps(fleetFromEnv({ ec2: true, queueDepth: false, releaseJobs: false }));

export const handler = (event: unknown): Promise<unknown> => steps.TerminateInstance(event);
