import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, Validations } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { COUNTERS_TABLE, JOBS_TABLE, OUTBOX_TABLE } from '../functions/declarations/tables.ts';
import { bindTable } from './table-access.ts';
import type { ForgeflowTables } from './tables.ts';

const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

export const POWERTOOLS_NAMESPACE = 'Forgeflow';
export const API_SERVICE_NAME = 'forgeflow-api';

/**
 * Bundling shared by every Forgeflow function: one ESM file per function, minified, with a source map so that
 * stack traces name our TypeScript files. The AWS SDK is bundled rather than taken from the runtime, so the code
 * runs with the SDK versions of package-lock.json that the tests ran with. ESM bundles of CommonJS dependencies
 * still call `require` for Node built-ins, hence the createRequire banner.
 */
export const FUNCTION_BUNDLING: BundlingOptions = {
  format: OutputFormat.ESM,
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  mainFields: ['module', 'main'],
  externalModules: [],
  logLevel: LogLevel.WARNING,
  banner: "import { createRequire } from 'module';const require = createRequire(import.meta.url);",
};

/**
 * The newest Node.js runtime aws-cdk-lib knows (cdk-nag AwsSolutions-L1 requires the newest of the family, so a
 * future aws-cdk-lib with a newer runtime fails the synth until this moves). The local runtime and the tests run
 * the same code on Node 20, so the functions use nothing newer than Node 20 offers.
 */
export const FUNCTION_RUNTIME = Runtime.NODEJS_24_X;

export interface ApiFunctionProps {
  readonly tables: ForgeflowTables;
}

/**
 * The api Lambda (functions/api/handler.ts) with its own log group and a role that holds nothing but what it uses:
 * write to its log group, X-Ray, and the three tables at the access each needs.
 */
export class ApiFunction extends Construct {
  readonly function: NodejsFunction;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: ApiFunctionProps) {
    super(scope, id);

    this.logGroup = new LogGroup(this, 'Logs', { retention: RetentionDays.ONE_MONTH });
    // An explicit role instead of AWSLambdaBasicExecutionRole: that managed policy may create and write any log
    // group in the account; this role may only write to the function's own.
    const role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: 'Forgeflow api function',
    });
    this.logGroup.grantWrite(role);

    this.function = new NodejsFunction(this, 'Function', {
      description: 'Forgeflow job API (HTTP API payload v2)',
      entry: path.join(PROJECT_ROOT, 'functions/api/handler.ts'),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      runtime: FUNCTION_RUNTIME,
      architecture: Architecture.ARM_64,
      memorySize: 512,
      timeout: Duration.seconds(10),
      tracing: Tracing.ACTIVE,
      role,
      logGroup: this.logGroup,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: API_SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: POWERTOOLS_NAMESPACE,
      },
      bundling: FUNCTION_BUNDLING,
    });

    // Each call sets the table's env var (named by its declaration) and grants access: they cannot drift apart.
    bindTable(this.function, props.tables.get(JOBS_TABLE), 'readWrite');
    bindTable(this.function, props.tables.get(OUTBOX_TABLE), 'append');
    bindTable(this.function, props.tables.get(COUNTERS_TABLE), 'readWrite');

    // Tracing.ACTIVE adds xray:PutTraceSegments and xray:PutTelemetryRecords on "*" to this policy. The test suite
    // checks that these X-Ray actions are the only statement on "*", so this acknowledgement covers nothing else.
    Validations.of(role.node.findChild('DefaultPolicy')).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray PutTraceSegments and PutTelemetryRecords support no resource-level permissions: AWS requires ' +
        'Resource "*" for them (added by Tracing.ACTIVE). Every DynamoDB and logs statement is scoped to ARNs.',
    });
  }
}
