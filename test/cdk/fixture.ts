import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App, type CfnElement, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { TableDefinition } from '../../functions/declarations/tables.ts';
import { createForgeflowApp, type ForgeflowAppOptions, type ForgeflowStacks } from '../../lib/forgeflow-app.ts';
import type { ForgeflowFunction } from '../../lib/lambda-function.ts';

/**
 * The whole app synthesised for template assertions: cdk.json context, built-in CloudFormation validation off
 * and no bundling (`aws:cdk:bundling-stacks` empty: the functions get placeholder code). Both only cost time
 * here; test/cdk/compliance.test.ts runs the one validated synth, with bundling, exactly as bin/app.ts does.
 */
const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as { context: Record<string, unknown> };

export type Json = Record<string, unknown>;
export type Resource = { Type: string; Properties: Json; DeletionPolicy?: string; UpdateReplacePolicy?: string };
export type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Sid?: string; Principal?: unknown; Condition?: Json };

export const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
export const resourcesOf = (s: Statement) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]);
export const sorted = <T>(values: Iterable<T>) => [...values].sort();

export interface ForgeflowFixture {
  readonly stacks: ForgeflowStacks;
  readonly stateful: Template;
  readonly api: Template;
  /** Removes the assembly directory. */
  dispose(): void;
  /** What a cross-stack reference in the api stack points at in the stateful stack (weak or strong references). */
  produced(reference: unknown): unknown;
  /** A reference as the api stack sees it, resolved to the stateful stack's value when it crosses stacks. */
  local(reference: unknown): unknown;
  logicalId(stack: Stack, element: CfnElement | { node: { defaultChild?: unknown } }): string;
  resource(stack: Stack, element: CfnElement | { node: { defaultChild?: unknown } }): Resource;
  tableArn(definition: TableDefinition): Json;
  /** Every statement of the role's policies (its DefaultPolicy and anything else attached to it). */
  statementsOf(fn: ForgeflowFunction): Statement[];
  /** The function's environment variables, as rendered (cross-stack values still as references). */
  environmentOf(fn: ForgeflowFunction): Json;
}

export function synthForgeflow(options: ForgeflowAppOptions = {}): ForgeflowFixture {
  const outdir = mkdtempSync(path.join(tmpdir(), 'forgeflow-cdk-'));
  const app = new App({
    outdir,
    context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [] },
    builtinCloudFormationValidation: false,
  });
  const stacks = createForgeflowApp(app, options);
  const stateful = Template.fromStack(stacks.stateful);
  const api = Template.fromStack(stacks.api);

  const produced = (reference: unknown): unknown => {
    const ref = reference as Json;
    const outputs = stateful.toJSON().Outputs as Record<string, { Value: unknown; Export?: { Name: unknown } }>;
    const weak = ref['Fn::GetStackOutput'] as { OutputName: string } | undefined;
    if (weak) return outputs[weak.OutputName]?.Value;
    if ('Fn::ImportValue' in ref) return Object.values(outputs).find((o) => o.Export?.Name === ref['Fn::ImportValue'])?.Value;
    return undefined;
  };
  const local = (reference: unknown) => (typeof reference === 'object' && reference !== null ? (produced(reference) ?? reference) : reference);
  const logicalId = (stack: Stack, element: CfnElement | { node: { defaultChild?: unknown } }) => {
    const cfn = ('node' in element && element.node.defaultChild ? element.node.defaultChild : element) as CfnElement;
    return stack.getLogicalId(cfn);
  };
  const resource = (stack: Stack, element: CfnElement | { node: { defaultChild?: unknown } }) => {
    const template = stack === stacks.api ? api : stateful;
    const found = (template.toJSON().Resources as Record<string, Resource>)[logicalId(stack, element)];
    if (!found) throw new Error(`No resource for ${logicalId(stack, element)}`);
    return found;
  };
  const statementsOf = (fn: ForgeflowFunction) => {
    const roleRef = JSON.stringify({ Ref: logicalId(stacks.api, fn.role) });
    return (Object.values(api.findResources('AWS::IAM::Policy')) as Resource[])
      .filter((p) => (p.Properties.Roles as unknown[]).some((r) => JSON.stringify(r) === roleRef))
      .flatMap((p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
  };

  return {
    stacks,
    stateful,
    api,
    dispose: () => rmSync(outdir, { recursive: true, force: true }),
    produced,
    local,
    logicalId,
    resource,
    tableArn: (definition) => ({ 'Fn::GetAtt': [logicalId(stacks.stateful, stacks.stateful.tables.get(definition).table), 'Arn'] }),
    statementsOf,
    environmentOf: (fn) => (resource(stacks.api, fn.function).Properties.Environment as { Variables: Json }).Variables,
  };
}
