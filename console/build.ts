import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { ASSETS_PREFIX, contentTypeOf, type ConsoleAsset, type ConsoleAssets } from './site.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const ENTRY = join(HERE, 'src', 'main.ts');
/** Where esbuild believes it writes; nothing is written there (write: false), it only names the outputs. */
const OUT_DIR = join(HERE, 'dist', 'assets');

/**
 * Bundles the console (console/src) with esbuild into memory: one JS and one CSS file named by their content hash,
 * their source maps, and index.html pointing at them. The local runtime serves the result straight from memory;
 * the CDK app writes it next to the console function's handler (`tsx console/build.ts <dir>`).
 */
export async function buildConsole(): Promise<ConsoleAssets> {
  const result = await esbuild.build({
    entryPoints: [ENTRY],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022', 'chrome110', 'firefox115', 'safari16'],
    minify: true,
    sourcemap: 'linked',
    entryNames: '[name]-[hash]',
    outdir: OUT_DIR,
    write: false,
    metafile: true,
    logLevel: 'silent',
    legalComments: 'linked',
  });
  const assets = new Map<string, ConsoleAsset>();
  let script: string | undefined;
  let styles: string | undefined;
  for (const file of result.outputFiles) {
    const path = `${ASSETS_PREFIX}${relative(OUT_DIR, file.path).split('\\').join('/')}`;
    assets.set(path, { contentType: contentTypeOf(path), body: file.text, immutable: true });
    if (path.endsWith('.js')) script = path;
    if (path.endsWith('.css')) styles = path;
  }
  if (!script || !styles) throw new Error('The console build produced no script or no stylesheet');
  const index = readFileSync(join(HERE, 'index.html'), 'utf8').replace('%SCRIPT%', script).replace('%STYLES%', styles);
  assets.set('/console/index.html', { contentType: contentTypeOf('index.html'), body: index, immutable: false });
  return assets;
}

/** Writes the assets under `dir`, by their path below /console (index.html, assets/…). */
export function writeConsole(assets: ConsoleAssets, dir: string): void {
  for (const [path, asset] of assets) {
    const file = join(dir, path.replace(/^\/console\//, ''));
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, asset.body);
  }
}

// `tsx console/build.ts <dir>`: what the console function's bundling runs.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: tsx console/build.ts <output directory>');
    process.exit(2);
  }
  writeConsole(await buildConsole(), resolve(dir));
  console.log(`built the console into ${dir}`);
}
