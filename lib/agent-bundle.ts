import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { AssetHashType, BundlingOutput, DockerImage } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Asset } from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import { PROJECT_ROOT } from './project-root.ts';

const AGENT_BUILD = path.join(PROJECT_ROOT, 'agent', 'build.ts');
/** The file name inside the bundling output; the S3 key is `<hash>.mjs`. */
const BUNDLE_FILE = 'agent.mjs';

/**
 * The worker agent (`dist/agent.mjs`, one ESM file) as an S3 asset, built at synth by running agent/build.ts, the
 * same esbuild build as `npm run build:agent`, so `npm run synth` works from a clean clone. The build runs in a
 * child process (tsx) because local bundling is synchronous and agent/build.ts is async. The asset's hash is the
 * bundle's (AssetHashType.OUTPUT): a change anywhere the agent imports gives a new object key, and the Launch
 * function's configuration (which names the key) changes with it.
 *
 * Where the app skips bundling (`aws:cdk:bundling-stacks: []`, the template tests), CDK skips this build too and
 * the asset is a placeholder, as for the functions.
 *
 * The Docker image is never pulled: local bundling either succeeds or throws.
 */
export class AgentBundle extends Construct {
  readonly asset: Asset;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.asset = new Asset(this, 'Asset', {
      path: PROJECT_ROOT,
      assetHashType: AssetHashType.OUTPUT,
      bundling: {
        image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:20-slim'),
        outputType: BundlingOutput.SINGLE_FILE,
        local: {
          tryBundle(outputDir: string): boolean {
            execFileSync(process.execPath, ['--import', 'tsx', AGENT_BUILD, path.join(outputDir, BUNDLE_FILE)], {
              cwd: PROJECT_ROOT,
              // The build prints "built <file>" on stdout; errors (esbuild's and ours) go to stderr and fail the synth.
              stdio: ['ignore', 'ignore', 'inherit'],
            });
            return true;
          },
        },
      },
    });
  }

  /** Where the bootstrap script fetches the bundle from (FleetLaunchConfig.agentBundle). */
  get location(): { bucket: string; key: string } {
    return { bucket: this.asset.s3BucketName, key: this.asset.s3ObjectKey };
  }

  /**
   * GetObject on exactly the bundle's object (`aws s3 cp` of one object needs nothing else). No KMS statement:
   * the bootstrap bucket's key (aws/s3 by default, or the key `cdk bootstrap --bootstrap-customer-key` creates)
   * has a key policy that lets principals of the account decrypt through S3.
   */
  readStatement(): PolicyStatement {
    return new PolicyStatement({ sid: 'ReadAgentBundle', actions: ['s3:GetObject'], resources: [this.asset.bucket.arnForObjects(this.asset.s3ObjectKey)] });
  }
}
