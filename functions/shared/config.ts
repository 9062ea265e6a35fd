import { z } from 'zod';
import { COUNTERS_TABLE, JOBS_TABLE, OUTBOX_TABLE } from '../declarations/tables.ts';

export class ConfigurationError extends Error {
  override name = 'ConfigurationError';
}

/**
 * The one fail-fast reader of configuration: handlers call it at cold start, so a missing variable stops the
 * function with a message naming it, never in the middle of a request.
 */
export function readConfig<T extends z.ZodRawShape>(shape: T, env: NodeJS.ProcessEnv = process.env): z.infer<z.ZodObject<T>> {
  const result = z.object(shape).safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigurationError(`Invalid configuration: ${problems}`);
  }
  return result.data;
}

const tableName = z.string().min(3).max(255);

export const TABLE_ENV = {
  [JOBS_TABLE.envVar]: tableName,
  [OUTBOX_TABLE.envVar]: tableName,
  [COUNTERS_TABLE.envVar]: tableName,
};

export function tableNamesFrom(config: Record<string, string>) {
  return {
    jobs: config[JOBS_TABLE.envVar]!,
    outbox: config[OUTBOX_TABLE.envVar]!,
    counters: config[COUNTERS_TABLE.envVar]!,
  };
}
