import { LOCAL_REGION } from '../dynamodb-local.ts';

/**
 * Turns a state machine definition as deployed (DefinitionSubstitutions placeholders and all) into the copy the
 * local engine gives aws-local-stepfunctions. The source file stays the one source for AWS and local; only this
 * copy is adapted, for what the library does differently (docs/architecture.md, "The local runtime"):
 * - `${<Name>FunctionArn}` become local Lambda ARNs, and their Task states run the handler `<Name>`;
 * - `lambda:invoke.waitForTaskToken` Tasks invoke the handler their FunctionName placeholder names, with the Payload;
 * - `.waitForTaskToken` Tasks (SQS and Lambda) get their timeout enforced by the engine: the library evaluates
 *   TimeoutSecondsPath against the Parameters-applied input (where `$.dispatch…` does not exist), so the path moves
 *   into Parameters (evaluated against the state input, as in AWS) and the library's own timer becomes a backstop;
 *   HeartbeatSeconds moves there too, as the library does not enforce it;
 * - with a wait scale, Wait states run as local Tasks of the same name that sleep the scaled duration.
 */
export interface AslState {
  Type: string;
  Resource?: string;
  Parameters?: Record<string, unknown>;
  TimeoutSeconds?: number;
  TimeoutSecondsPath?: string;
  HeartbeatSeconds?: number;
  Seconds?: number;
  SecondsPath?: string;
  Timestamp?: string;
  TimestampPath?: string;
  InputPath?: string | null;
  [field: string]: unknown;
}

export interface AslDefinition {
  StartAt: string;
  States: Record<string, AslState>;
  [field: string]: unknown;
}

export type LocalTask =
  | { kind: 'function'; state: string; handler: string }
  | { kind: 'sqs-wait-for-token'; state: string }
  | { kind: 'lambda-wait-for-token'; state: string; handler: string }
  | { kind: 'wait'; state: string };

export interface LocalDefinition {
  definition: AslDefinition;
  tasks: LocalTask[];
  /** The state types of the source definition (a scaled Wait still reports itself as a Wait). */
  stateTypes: Record<string, string>;
}

export const LOCAL_ACCOUNT = '000000000000';
export const SQS_SEND_WAIT_FOR_TOKEN = 'arn:aws:states:::sqs:sendMessage.waitForTaskToken';
export const LAMBDA_INVOKE_WAIT_FOR_TOKEN = 'arn:aws:states:::lambda:invoke.waitForTaskToken';
/** What `$$.Task.Token` evaluates to locally; the dispatch handler swaps in a token it mints once per attempt. */
export const TASK_TOKEN_PLACEHOLDER = 'forgeflow-local-task-token-placeholder';
/** The Parameters field carrying a waitForTaskToken state's timeout to the engine (removed before sending). */
export const LOCAL_TIMEOUT_FIELD = 'forgeflowLocalTimeoutSeconds';
/** The same for its HeartbeatSeconds. */
export const LOCAL_HEARTBEAT_FIELD = 'forgeflowLocalHeartbeatSeconds';
/** The library's own Task timer, now only a backstop. Under 2^31 ms: longer Node timers fire after 1 ms. */
const BACKSTOP_TIMEOUT_SECONDS = 2_000_000;

export const localFunctionArn = (name: string) => `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:forgeflow-local-${name}`;
export const localStateMachineArn = (name: string) => `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:${name}`;

const FUNCTION_PLACEHOLDER = /^\$\{([A-Za-z0-9]+)FunctionArn\}$/;

export function prepareLocalDefinition(source: AslDefinition, options: { handlers: readonly string[]; scaleWaits: boolean }): LocalDefinition {
  const definition = JSON.parse(JSON.stringify(source)) as AslDefinition;
  const tasks: LocalTask[] = [];
  const stateTypes: Record<string, string> = {};
  for (const [name, state] of Object.entries(definition.States)) {
    stateTypes[name] = state.Type;
    if (state.Type === 'Map' || state.Type === 'Parallel') throw new Error(`State ${name}: the local engine does not run ${state.Type} states`);
    if (state.Type === 'Wait' && options.scaleWaits && state.InputPath === undefined) {
      definition.States[name] = waitAsTask(state);
      tasks.push({ kind: 'wait', state: name });
      continue;
    }
    if (state.Type !== 'Task') continue;
    const placeholder = FUNCTION_PLACEHOLDER.exec(state.Resource ?? '');
    if (placeholder) {
      const handler = placeholder[1]!;
      if (!options.handlers.includes(handler)) throw new Error(`State ${name} needs a local handler named ${handler}`);
      state.Resource = localFunctionArn(handler);
      tasks.push({ kind: 'function', state: name, handler });
    } else if (state.Resource === SQS_SEND_WAIT_FOR_TOKEN) {
      moveTimeoutIntoParameters(name, state);
      tasks.push({ kind: 'sqs-wait-for-token', state: name });
    } else if (state.Resource === LAMBDA_INVOKE_WAIT_FOR_TOKEN) {
      const handler = FUNCTION_PLACEHOLDER.exec(String(state.Parameters?.FunctionName ?? ''))?.[1];
      if (!handler || !options.handlers.includes(handler)) throw new Error(`State ${name} needs FunctionName "\${<Name>FunctionArn}" with a local handler`);
      state.Parameters!.FunctionName = localFunctionArn(handler);
      moveTimeoutIntoParameters(name, state);
      tasks.push({ kind: 'lambda-wait-for-token', state: name, handler });
    } else {
      throw new Error(`State ${name}: the local engine cannot run resource ${state.Resource}`);
    }
  }
  const leftover = /\$\{[^}]*\}/.exec(JSON.stringify(definition));
  if (leftover) throw new Error(`No local value for the substitution ${leftover[0]}`);
  return { definition, tasks, stateTypes };
}

function moveTimeoutIntoParameters(name: string, state: AslState): void {
  if (!state.Parameters) throw new Error(`State ${name}: a waitForTaskToken task needs Parameters to pass the token`);
  if (state.TimeoutSecondsPath !== undefined) state.Parameters[`${LOCAL_TIMEOUT_FIELD}.$`] = state.TimeoutSecondsPath;
  else if (state.TimeoutSeconds !== undefined) state.Parameters[LOCAL_TIMEOUT_FIELD] = state.TimeoutSeconds;
  if (state.HeartbeatSeconds !== undefined) state.Parameters[LOCAL_HEARTBEAT_FIELD] = state.HeartbeatSeconds;
  delete state.TimeoutSecondsPath;
  delete state.HeartbeatSeconds;
  state.TimeoutSeconds = BACKSTOP_TIMEOUT_SECONDS;
}

/** Same name, same transitions, same output (ResultPath null keeps the input); only the sleep is the engine's. */
function waitAsTask(state: AslState): AslState {
  const { Type: _type, Seconds, SecondsPath, Timestamp, TimestampPath, ...rest } = state;
  const Parameters =
    SecondsPath !== undefined ? { 'seconds.$': SecondsPath }
    : Seconds !== undefined ? { seconds: Seconds }
    : TimestampPath !== undefined ? { 'timestamp.$': TimestampPath }
    : { timestamp: Timestamp };
  return { ...rest, Type: 'Task', Resource: localFunctionArn('wait'), Parameters, ResultPath: null, TimeoutSeconds: BACKSTOP_TIMEOUT_SECONDS };
}
