import { createProvisionSteps } from '../steps.ts';
import { fleetFromEnv } from '../wiring.ts';

/** Lambda entry of the provisioning saga's RecordReady state: configuration is read once, here, at cold start. */
const steps = createProvisionSteps(fleetFromEnv({ ec2: false, queueDepth: false, releaseJobs: false }));

export const handler = (event: unknown): Promise<unknown> => steps.RecordReady(event);
