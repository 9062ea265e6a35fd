import * as z from 'zod';
import type { TableDefinition } from '../declarations/tables.ts';

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

/** The configuration shape for a function that uses these tables: one name variable per declared table. */
export function tableEnv(...tables: TableDefinition[]): Record<string, typeof tableName> {
  return Object.fromEntries(tables.map((table) => [table.envVar, tableName]));
}

/**
 * Reads the physical names of the tables a function uses, failing fast on a missing one, and returns a lookup
 * by declaration, so handlers never spell a variable name.
 */
export function readTableNames(tables: TableDefinition[], env: NodeJS.ProcessEnv = process.env): (table: TableDefinition) => string {
  const config = readConfig(tableEnv(...tables), env) as Record<string, string>;
  return (table) => {
    const name = config[table.envVar];
    if (!name) throw new ConfigurationError(`Table ${table.name} is not configured for this function`);
    return name;
  };
}

/** A state machine's ARN from its declared variable (JOB_SAGA, PROVISION_WORKER), checked at cold start. */
export function readStateMachineArn(machine: { envVar: string }, env: NodeJS.ProcessEnv = process.env): string {
  return String(readConfig({ [machine.envVar]: z.string().startsWith('arn:') }, env)[machine.envVar]);
}
