import { parkJobStep } from '../steps.ts';
import { admissionServiceFromEnv } from '../wiring.ts';

/** Lambda entry of the saga's WaitForSlot state (lambda:invoke.waitForTaskToken): parks the run for admission. */
export const handler = parkJobStep(admissionServiceFromEnv());
