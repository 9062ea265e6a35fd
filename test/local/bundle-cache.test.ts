import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { cachedBundle, currentBundle } from '../../local/bundle-cache.mjs';

const ROOT = join(import.meta.dirname, '..', '..');
const name = `forgeflow-test-${randomUUID()}`;
// Inputs must sit under the project root, where the cache resolves entries; node_modules/.cache is out of git's way.
const sources = join('node_modules', '.cache', `${name}-src`);
const write = (file: string, text: string) => writeFileSync(join(ROOT, sources, file), text);
const valueOf = async (bundle: string): Promise<unknown> => ((await import(`${pathToFileURL(bundle).href}?${randomUUID()}`)) as { value: unknown }).value;

afterAll(() => {
  rmSync(join(ROOT, sources), { recursive: true, force: true });
  rmSync(join(ROOT, 'node_modules', '.cache', name), { recursive: true, force: true });
});

describe('the cached one-file bundle (bin/forgeflow.js, the local fleet agent)', () => {
  it('is built once, reused while its inputs are unchanged, and rebuilt when one changes', async () => {
    mkdirSync(join(ROOT, sources), { recursive: true });
    write('entry.ts', "import { part } from './part.ts';\nexport const value = part * 2;\n");
    write('part.ts', 'export const part = 21;\n');
    const entry = join(sources, 'entry.ts');
    expect(currentBundle(name)).toBeUndefined();

    const [first, shared] = await Promise.all([cachedBundle(name, entry), cachedBundle(name, entry)]);
    expect(shared).toBe(first);
    expect(await valueOf(first)).toBe(42);
    expect(currentBundle(name)).toBe(first);

    // An imported file, not only the entry, is watched; a new size tells even within the mtime's resolution.
    write('part.ts', 'export const part = 1000;\n');
    expect(currentBundle(name)).toBeUndefined();
    const rebuilt = await cachedBundle(name, entry);
    expect(await valueOf(rebuilt)).toBe(2000);
    expect(currentBundle(name)).toBe(rebuilt);
  });

  it('is not current when a file it was built from is gone', async () => {
    rmSync(join(ROOT, sources, 'part.ts'));
    expect(currentBundle(name)).toBeUndefined();
    await expect(cachedBundle(name, join(sources, 'entry.ts'))).rejects.toThrow(/part\.ts/);
  });
});
