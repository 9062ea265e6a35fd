import type { Environment } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ForgeflowStatefulStack } from './stateful-stack.ts';
import { ForgeflowApiStack } from './stateless-stack.ts';

export interface ForgeflowAppOptions {
  /** Prefix of the stack names, so several copies (per developer, per stage) can live in one account. */
  readonly stackPrefix?: string;
  /** @default environment-agnostic stacks */
  readonly env?: Environment;
}

export interface ForgeflowStacks {
  readonly stateful: ForgeflowStatefulStack;
  readonly api: ForgeflowApiStack;
}

/** Builds the Forgeflow stacks into an App (or Stage). bin/app.ts and the CDK tests build the same thing. */
export function createForgeflowApp(scope: Construct, options: ForgeflowAppOptions = {}): ForgeflowStacks {
  const prefix = options.stackPrefix ?? 'Forgeflow';
  const stateful = new ForgeflowStatefulStack(scope, `${prefix}Stateful`, { env: options.env });
  const api = new ForgeflowApiStack(scope, `${prefix}Api`, {
    env: options.env,
    tables: stateful.tables,
    auth: stateful.auth,
  });
  return { stateful, api };
}
