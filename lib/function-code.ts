import path from 'node:path';
import { AssetHashType, DockerImage } from 'aws-cdk-lib';
import { Code } from 'aws-cdk-lib/aws-lambda';
import { buildSync, type BuildOptions } from 'esbuild';
import { PROJECT_ROOT } from './project-root.ts';

/**
 * The AWS SDK v3 every Node.js Lambda runtime carries: left out of the bundles, so each function ships only our
 * code, Powertools and zod (decision 0018). The SDK the functions run with in AWS is then the runtime's, not
 * package-lock.json's; they use nothing a runtime of the family lacks (test/cdk/bundling.test.ts keeps the SDK
 * out of every bundle, and the local runtime runs the same handlers with the locked SDK).
 */
export const RUNTIME_PROVIDED_MODULES = ['@aws-sdk/*'];

/**
 * The esbuild options of every Forgeflow function, and of the bench and tests that measure or load its bundles: one
 * ESM file per function, minified, with a source map so that stack traces name our TypeScript files. ESM bundles of
 * CommonJS dependencies still call `require` for Node built-ins, hence the createRequire banner.
 */
export const FUNCTION_BUNDLING = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  minify: true,
  // Error names are matched by the state machines' Retry and Catch and logged by name: minifying must not rename them.
  keepNames: true,
  sourcemap: true,
  sourcesContent: false,
  mainFields: ['module', 'main'],
  external: RUNTIME_PROVIDED_MODULES,
  logLevel: 'warning',
  banner: { js: "import { createRequire } from 'module';const require = createRequire(import.meta.url);" },
} as const satisfies BuildOptions;

/** The bundle's module inside the code asset, and the handler Lambda calls in it: `index.handler`. */
const BUNDLE_MODULE = 'index';
export const HANDLER = `${BUNDLE_MODULE}.handler`;

export interface FunctionCodeOptions {
  /** esbuild's target, from the function's runtime (`node24`). */
  readonly target: string;
  /** Runs after the bundle is written, to add files beside it (the console's built pages). */
  readonly afterBundling?: (outputDir: string) => void;
}

/**
 * A function's code: `entry` bundled with esbuild's API, in this process, at synth. NodejsFunction ran the esbuild
 * binary through `npx --no-install` for each function, and npx alone took 0.8 s of the 1 s each bundle cost: about
 * 25 s of every `cdk synth` of the app. The asset's hash is the bundle's (AssetHashType.OUTPUT), as it was; where
 * the app skips bundling (`aws:cdk:bundling-stacks: []`, the template tests) CDK skips this too and the code is a
 * placeholder. The Docker image is never pulled: local bundling either succeeds or throws.
 */
export function bundledFunctionCode(entry: string, options: FunctionCodeOptions): Code {
  return Code.fromAsset(PROJECT_ROOT, {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:20-slim'),
      // CDK caches staged assets by source path and bundling options, and a function (tryBundle) is no option it
      // compares: without the entry among them, every function of the app got the first one's bundle.
      environment: { FORGEFLOW_BUNDLE: `${path.relative(PROJECT_ROOT, entry)}${options.afterBundling ? ' with files beside it' : ''}` },
      local: {
        tryBundle(outputDir: string): boolean {
          buildSync({ ...FUNCTION_BUNDLING, target: options.target, entryPoints: [entry], outfile: path.join(outputDir, `${BUNDLE_MODULE}.mjs`), absWorkingDir: PROJECT_ROOT });
          options.afterBundling?.(outputDir);
          return true;
        },
      },
    },
  });
}
