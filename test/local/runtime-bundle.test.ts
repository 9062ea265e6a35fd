import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { HTTP_FUNCTIONS } from '../../functions/declarations/http-functions.ts';
import { JOB_SAGA, stepHandlerModule } from '../../functions/declarations/statemachines.ts';
import { cachedBundle } from '../../local/bundle-cache.mjs';
import { importHandler } from '../../local/lambda.ts';
import { isHandlerModule, RUNTIME_BUNDLING } from '../../local/runtime-bundle.mjs';

const ROOT = join(import.meta.dirname, '..', '..');
const names = [`forgeflow-test-loader-${randomUUID()}`, `forgeflow-test-sources-${randomUUID()}`] as const;
afterAll(() => names.forEach((name) => rmSync(join(ROOT, 'node_modules', '.cache', name), { recursive: true, force: true })));

const sagaSteps = Object.entries(JSON.parse(readFileSync(JOB_SAGA.definitionPath, 'utf8')).States as Record<string, { Type: string; Resource?: string }>)
  .filter(([, state]) => state.Type === 'Task' && state.Resource?.startsWith('${'))
  .map(([step]) => step);

describe("npm start's bundle (local/runtime-bundle.mjs)", () => {
  it('names as handler modules what the runtime loads as handlers, and nothing else under functions/', () => {
    const loaded = [...Object.values(HTTP_FUNCTIONS).map((fn) => fn.entry), ...sagaSteps.map((step) => stepHandlerModule(JOB_SAGA, step)), 'functions/relay/handler.ts', 'functions/consumers/dispatch-dlq/handler.ts'];
    expect(sagaSteps.length).toBeGreaterThan(4);
    for (const path of loaded) expect(isHandlerModule(path), path).toBe(true);
    for (const path of ['functions/core/saga.ts', 'functions/api/handlers.ts', 'functions/saga/handlers/nested/x.js', 'local/lambda.ts', 'functions/relay/handler.ts.bak']) expect(isHandlerModule(path), path).toBe(false);
  });

  it('has the runtime refuse to load a module the rule does not name, before loading it', async () => {
    await expect(importHandler('../functions/core/saga.ts')).rejects.toThrow('functions/core/saga.ts is not named as a handler module');
  });

  it('loads each handler from inside the bundle, and refuses a path outside it by name', async () => {
    const bundle = await cachedBundle(names[0], 'local/handler-modules.ts', { build: RUNTIME_BUNDLING });
    const { loadHandlerModule } = (await import(pathToFileURL(bundle).href)) as { loadHandlerModule: (source: URL) => Promise<unknown> };
    // The relay reads its configuration at load and has none here: that error proves its module ran from the bundle.
    await expect(loadHandlerModule(new URL('functions/relay/handler.ts?instance=7', pathToFileURL(`${ROOT}/`)))).rejects.toThrow(/Invalid configuration/);
    expect(() => loadHandlerModule(new URL('functions/core/saga.ts', pathToFileURL(`${ROOT}/`)))).toThrow("functions/core/saga.ts is not a handler module of npm start's bundle");
  });

  it('keeps each source finding the files beside it, not beside the bundle', async () => {
    const bundle = await cachedBundle(names[1], 'functions/declarations/statemachines.ts', { build: RUNTIME_BUNDLING });
    const bundled = (await import(`${pathToFileURL(bundle).href}?${randomUUID()}`)) as { JOB_SAGA: { definitionPath: string } };
    expect(bundled.JOB_SAGA.definitionPath).toBe(JOB_SAGA.definitionPath);
    expect(existsSync(bundled.JOB_SAGA.definitionPath)).toBe(true);
  });
});
