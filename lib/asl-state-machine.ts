import { readFileSync } from 'node:fs';
import { Validations } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';

/** Every `${Name}` placeholder of an ASL document (the keys DefinitionSubstitutions must fill), sorted, once each. */
export const aslPlaceholders = (definition: string) => [...new Set([...definition.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1]!))].sort();

/** The `TimeoutSeconds` of each Task state whose Resource (or Parameters.FunctionName) is exactly `${key}`. */
export function taskTimeouts(definition: string): Map<string, number | undefined> {
  const states = (JSON.parse(definition) as { States: Record<string, { Resource?: string; Parameters?: { FunctionName?: string }; TimeoutSeconds?: number }> }).States;
  const timeouts = new Map<string, number | undefined>();
  for (const state of Object.values(states)) {
    const named = [state.Resource, state.Parameters?.FunctionName].map((v) => /^\$\{([A-Za-z0-9_]+)\}$/.exec(v ?? '')?.[1]).find(Boolean);
    if (named) timeouts.set(named, state.TimeoutSeconds);
  }
  return timeouts;
}

export interface AslStateMachineProps {
  /** The ASL file, the same one the local runtime runs. */
  readonly definitionPath: string;
  /** Unique per account and region (see lib/forgeflow-app.ts). */
  readonly stateMachineName: string;
  readonly comment: string;
  /** Placeholder → the Lambda function its ARN fills in. Every placeholder needs one, and every one must be used. */
  readonly functions: ReadonlyMap<string, IFunction>;
  /** Why the role's wildcard statements (log delivery, X-Ray, and anything the caller adds) are acceptable. */
  readonly wildcardReason: string;
}

/**
 * A Standard state machine from an ASL file whose Lambda ARNs are `${<Step>FunctionArn}` placeholders, filled by
 * DefinitionSubstitutions. A placeholder without a function, or a function the ASL never names, fails the synth.
 * Execution events are logged at level ALL (cdk-nag SF1) without execution data: inputs and outputs carry jobs'
 * commands, environments and task tokens, which stay in the execution history (access-controlled by IAM). Its
 * role may invoke exactly the named functions. Creates `Logs` and `StateMachine` under `scope`.
 */
export function buildAslStateMachine(scope: Construct, props: AslStateMachineProps): { stateMachine: StateMachine; logGroup: LogGroup } {
  const definition = readFileSync(props.definitionPath, 'utf8');
  const placeholders = aslPlaceholders(definition);
  const unknown = placeholders.filter((key) => !props.functions.has(key));
  const unused = [...props.functions.keys()].filter((key) => !placeholders.includes(key));
  if (unknown.length > 0 || unused.length > 0) {
    throw new Error(`${props.definitionPath}: placeholders without a function [${unknown.join(', ')}], functions never named [${unused.join(', ')}]`);
  }

  const logGroup = new LogGroup(scope, 'Logs', { retention: RetentionDays.ONE_MONTH });
  const stateMachine = new StateMachine(scope, 'StateMachine', {
    stateMachineName: props.stateMachineName,
    stateMachineType: StateMachineType.STANDARD,
    comment: props.comment,
    // The file as written (minified): DefinitionString in the template, the placeholders filled by CloudFormation.
    definitionBody: DefinitionBody.fromString(JSON.stringify(JSON.parse(definition))),
    definitionSubstitutions: Object.fromEntries(placeholders.map((key) => [key, props.functions.get(key)!.functionArn])),
    logs: { destination: logGroup, level: LogLevel.ALL, includeExecutionData: false },
    tracingEnabled: true,
  });

  // Invoke exactly the functions (the unqualified ARNs the definition names), nothing else.
  stateMachine.addToRolePolicy(
    new PolicyStatement({ sid: 'InvokeSteps', actions: ['lambda:InvokeFunction'], resources: [...props.functions.values()].map((fn) => fn.functionArn) }),
  );
  Validations.of(stateMachine.role.node.findChild('DefaultPolicy')).acknowledge({ id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]', reason: props.wildcardReason });
  return { stateMachine, logGroup };
}

/** The reason every ASL state machine's role has wildcard statements. */
export const STATE_MACHINE_WILDCARD_REASON =
  'Step Functions logging to CloudWatch Logs needs logs:CreateLogDelivery, GetLogDelivery, UpdateLogDelivery, ' +
  'DeleteLogDelivery, ListLogDeliveries, PutResourcePolicy, DescribeResourcePolicies and DescribeLogGroups on ' +
  '"*" (they support no resource-level permissions), and X-Ray tracing needs PutTraceSegments, ' +
  'PutTelemetryRecords, GetSamplingRules and GetSamplingTargets on "*".';
