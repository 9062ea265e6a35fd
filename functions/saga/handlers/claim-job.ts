import { createSagaSteps } from '../steps.ts';
import { sagaServiceFromEnv } from '../wiring.ts';

/** Lambda entry of the saga's ClaimJob state: configuration is read once, here, at cold start. */
const steps = createSagaSteps(sagaServiceFromEnv({ dispatch: true }));

export const handler = (event: unknown): Promise<unknown> => steps.ClaimJob(event);
