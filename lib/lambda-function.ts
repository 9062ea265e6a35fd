import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Validations, type Duration } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

export const POWERTOOLS_NAMESPACE = 'Forgeflow';

/**
 * The AWS SDK v3 every Node.js Lambda runtime carries: left out of the bundles, so each function ships only our
 * code, Powertools and zod (decision 0018). The SDK the functions run with in AWS is then the runtime's, not
 * package-lock.json's; they use nothing a runtime of the family lacks (test/cdk/bundling.test.ts keeps the SDK
 * out of every bundle, and the local runtime runs the same handlers with the locked SDK).
 */
export const RUNTIME_PROVIDED_MODULES = ['@aws-sdk/*'];

/**
 * Bundling shared by every Forgeflow function: one ESM file per function, minified, with a source map so that
 * stack traces name our TypeScript files. ESM bundles of CommonJS dependencies still call `require` for Node
 * built-ins, hence the createRequire banner.
 */
export const FUNCTION_BUNDLING: BundlingOptions = {
  format: OutputFormat.ESM,
  minify: true,
  // Error names are matched by the state machines' Retry and Catch and logged by name: minifying must not rename them.
  keepNames: true,
  sourceMap: true,
  sourcesContent: false,
  mainFields: ['module', 'main'],
  externalModules: RUNTIME_PROVIDED_MODULES,
  logLevel: LogLevel.WARNING,
  banner: "import { createRequire } from 'module';const require = createRequire(import.meta.url);",
};

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
  /** Bundling beyond FUNCTION_BUNDLING, e.g. command hooks that add files beside the bundle (the console's). */
  readonly bundling?: Partial<BundlingOptions>;
}

/**
 * A Forgeflow Lambda function: Node.js on arm64 with active tracing, its own log group, and a role that holds
 * nothing but what it uses. Callers add their grants (bindTable, queue and bus grants); nothing is granted here
 * but writing to the function's own log group and X-Ray.
 */
export class ForgeflowFunction extends Construct {
  readonly function: NodejsFunction;
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

    this.function = new NodejsFunction(this, 'Function', {
      description: props.description,
      entry: this.entry,
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
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
      bundling: { ...FUNCTION_BUNDLING, ...props.bundling },
    });

    // Tracing.ACTIVE adds xray:PutTraceSegments and xray:PutTelemetryRecords on "*" to this policy. The test suite
    // pins the wildcard actions of each function, so this acknowledgement covers nothing else.
    Validations.of(this.role.node.findChild('DefaultPolicy')).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason: props.extraWildcardReason ? `${XRAY_WILDCARD_REASON} ${props.extraWildcardReason}` : XRAY_WILDCARD_REASON,
    });
  }
}
