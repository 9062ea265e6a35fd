import { categorizeStep } from '../steps.ts';

/** Lambda entry of the saga's Categorize state: a pure function of the caught error, so it reads no configuration. */
export const handler = (event: unknown): Promise<unknown> => categorizeStep(event);
