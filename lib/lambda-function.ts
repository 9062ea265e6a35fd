import path from 'node:path';
import { Validations, type Duration } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Function as LambdaFunction, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { bundledFunctionCode, HANDLER } from './function-code.ts';
import { PROJECT_ROOT } from './project-root.ts';

export const POWERTOOLS_NAMESPACE = 'Forgeflow';

/**
 * The newest Node.js runtime aws-cdk-lib knows (cdk-nag AwsSolutions-L1 requires the newest of the family, so a
 * future aws-cdk-lib with a newer runtime fails the synth until this moves). The local runtime and the tests run
 * the same code on Node 20, so the functions use nothing newer than Node 20 offers.
 */
export const FUNCTION_RUNTIME = Runtime.NODEJS_24_X;

/** Why the X-Ray statement is on "*"; every function has it (Tracing.ACTIVE). */
const XRAY_WILDCARD_REASON =
  'X-Ray PutTraceSegments and PutTelemetryRecords support no resource-level permissions: AWS requires ' +
  'Resource "*" for them (added by Tracing.ACTIVE). Every other statement is scoped to ARNs.';

export interface ForgeflowFunctionProps {
  /** The handler module, relative to the project root (it exports `handler`). */
  readonly entry: string;
  readonly description: string;
  /**
   * Powertools service name: the handler's logger and metrics use the same one. Absent for a handler that uses no
   * Powertools (the saga steps): then the function gets no POWERTOOLS_* variable, as it would never read one.
   */
  readonly serviceName?: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  /**
   * Any other wildcard-resource action this function's role receives from a CDK grant, and why it is acceptable.
   * The acknowledgement below covers the whole policy, so the tests pin the exact wildcard actions per function.
   */
  readonly extraWildcardReason?: string;
  /** Runs after the bundle is written, to add files beside it (the console's built pages). */
  readonly afterBundling?: (outputDir: string) => void;
}

/**
 * A Forgeflow Lambda function: Node.js on arm64 with active tracing, its own log group, and a role that holds
 * nothing but what it uses. Callers add their grants (bindTable, queue and bus grants); nothing is granted here
 * but writing to the function's own log group and X-Ray.
 */
export class ForgeflowFunction extends Construct {
  readonly function: LambdaFunction;
  readonly logGroup: LogGroup;
  readonly role: Role;
  /** Absolute path of the handler module, so the tests can check the function against the code it runs. */
  readonly entry: string;

  constructor(scope: Construct, id: string, props: ForgeflowFunctionProps) {
    super(scope, id);
    this.entry = path.join(PROJECT_ROOT, props.entry);

    this.logGroup = new LogGroup(this, 'Logs', { retention: RetentionDays.ONE_MONTH });
    // An explicit role instead of AWSLambdaBasicExecutionRole: that managed policy may create and write any log
    // group in the account; this role may only write to the function's own.
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: props.description,
    });
    this.logGroup.grantWrite(this.role);

    this.function = new LambdaFunction(this, 'Function', {
      description: props.description,
      code: bundledFunctionCode(this.entry, { target: FUNCTION_RUNTIME.name.replace(/^nodejs(\d+)\.x$/, 'node$1'), afterBundling: props.afterBundling }),
      handler: HANDLER,
      runtime: FUNCTION_RUNTIME,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      tracing: Tracing.ACTIVE,
      role: this.role,
      logGroup: this.logGroup,
      // Only what the runtime and Powertools read; each caller adds the variables its handler's config reads.
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        ...(props.serviceName === undefined
          ? {}
          : { POWERTOOLS_SERVICE_NAME: props.serviceName, POWERTOOLS_METRICS_NAMESPACE: POWERTOOLS_NAMESPACE }),
      },
    });

    // Tracing.ACTIVE adds xray:PutTraceSegments and xray:PutTelemetryRecords on "*" to this policy. The test suite
    // pins the wildcard actions of each function, so this acknowledgement covers nothing else.
    Validations.of(this.role.node.findChild('DefaultPolicy')).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason: props.extraWildcardReason ? `${XRAY_WILDCARD_REASON} ${props.extraWildcardReason}` : XRAY_WILDCARD_REASON,
    });
  }
}
