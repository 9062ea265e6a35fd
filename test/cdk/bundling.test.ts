import { mkdtempSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { FUNCTION_BUNDLING } from '../../lib/lambda-function.ts';

const root = join(import.meta.dirname, '..', '..');
const SDK = /^@aws-sdk\/[a-z0-9-]+$/;

/**
 * The functions as the CDK app bundles them (decision 0018): the runtime's AWS SDK is left out, and nothing else is.
 * A bundle that imported any other package would fail to load in Lambda, where the SDK is all node_modules holds.
 */
describe('Lambda bundles', () => {
  // Inside the checkout, so the bundle's SDK imports resolve to node_modules as they resolve to the runtime's copy.
  const dir = mkdtempSync(join(root, 'node_modules', '.ff-bundling-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function externalPackages(entry: string): Promise<string[]> {
    const result = await build({
      entryPoints: [join(root, entry)],
      outdir: dir,
      bundle: true,
      write: false,
      metafile: true,
      platform: 'node',
      format: 'esm',
      external: FUNCTION_BUNDLING.externalModules ?? [],
      minify: FUNCTION_BUNDLING.minify,
      keepNames: FUNCTION_BUNDLING.keepNames,
      mainFields: FUNCTION_BUNDLING.mainFields,
      logLevel: 'silent',
    });
    // No SDK source went into the bundle itself.
    expect(Object.keys(result.metafile.inputs).filter((input) => input.includes('node_modules/@aws-sdk/'))).toEqual([]);
    const imports = Object.values(result.metafile.outputs).flatMap((output) => output.imports.filter((i) => i.external).map((i) => i.path));
    return [...new Set(imports.filter((path) => !path.startsWith('node:') && !builtinModules.includes(path)))];
  }

  it.each(['functions/api/handler.ts', 'functions/api/workers-handler.ts', 'functions/fleet/handlers/launch.ts', 'functions/saga/handlers/claim-job.ts'])(
    '%s imports the AWS SDK from the runtime, and nothing but Node built-ins besides',
    async (entry) => {
      const packages = await externalPackages(entry);
      expect(packages.length, 'the handler reaches the SDK').toBeGreaterThan(0);
      expect(packages.filter((name) => !SDK.test(name))).toEqual([]);
    },
  );

  it('keeps the SDK out of the openapi function altogether: it makes no client, so its cold start loads none', async () => {
    expect(await externalPackages('functions/api/openapi-handler.ts')).toEqual([]);
  });
});
