import { mkdtempSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { FUNCTION_BUNDLING } from '../../lib/function-code.ts';

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

  /** The packages a bundle imports from outside, and the ones of them it imports at start (not by import()). */
  async function externalImports(entry: string): Promise<{ all: string[]; atStart: string[] }> {
    const result = await build({ ...FUNCTION_BUNDLING, entryPoints: [join(root, entry)], outdir: dir, write: false, metafile: true, logLevel: 'silent' });
    // No SDK source went into the bundle itself.
    expect(Object.keys(result.metafile.inputs).filter((input) => input.includes('node_modules/@aws-sdk/'))).toEqual([]);
    const imports = Object.values(result.metafile.outputs)
      .flatMap((output) => output.imports)
      .filter((i) => i.external && !i.path.startsWith('node:') && !builtinModules.includes(i.path));
    const unique = (paths: string[]) => [...new Set(paths)].sort();
    return { all: unique(imports.map((i) => i.path)), atStart: unique(imports.filter((i) => i.kind !== 'dynamic-import').map((i) => i.path)) };
  }

  const externalPackages = async (entry: string) => (await externalImports(entry)).all;

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

  // A bundle keeps every SDK import it sees, used or not: one static import of a client in a shared module (the fleet's
  // wiring, an adapter) puts its SDK in the cold start of every function that reaches it (decisions 0018 and 0019).
  const DYNAMODB = ['@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb', '@aws-sdk/util-dynamodb'];
  it.each([
    ['functions/api/handler.ts', DYNAMODB],
    ['functions/api/workers-handler.ts', DYNAMODB],
    ['functions/fleet/handlers/launch.ts', DYNAMODB],
    ['functions/fleet/handlers/worker-control.ts', DYNAMODB],
    ['functions/fleet/handlers/reaper.ts', DYNAMODB],
    ['functions/fleet/handlers/scaler.ts', [...DYNAMODB, '@aws-sdk/client-sqs']],
    ['functions/fleet/handlers/metrics-collector.ts', [...DYNAMODB, '@aws-sdk/client-cloudwatch']],
    ['functions/consumers/worker-reports/handler.ts', DYNAMODB],
    ['functions/consumers/saga-starter/handler.ts', ['@aws-sdk/client-sfn']],
    ['functions/reconciler/handler.ts', DYNAMODB],
  ])('%s loads at start only the SDK clients it calls on most invocations', async (entry, clients) => {
    expect((await externalImports(entry)).atStart).toEqual([...clients].sort());
  });
});
