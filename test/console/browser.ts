import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Where the tests find Chromium: CHROMIUM_PATH, else Debian's package. playwright-core downloads no browser. */
export function chromiumPath(): string {
  const path = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
  if (!existsSync(path)) {
    throw new Error(
      `The console's browser tests need Chromium, and there is none at ${path}. Install it with \`apt-get install chromium\` ` +
        '(Debian, Ubuntu), or set CHROMIUM_PATH to a Chromium or Chrome executable.',
    );
  }
  return path;
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    // Chromium's sandbox needs user namespaces, which containers (and root) usually lack.
    chromiumSandbox: false,
    args: ['--disable-dev-shm-usage'],
  });
}

/** One size for every page, so screenshots are comparable from run to run. */
export const VIEWPORT = { width: 1280, height: 800 } as const;

const SCREENSHOTS = join(import.meta.dirname, '..', '..', 'docs', 'screenshots');

/**
 * Saves docs/screenshots/<name>.png when UPDATE_SCREENSHOTS=1: a normal run leaves the working tree alone, and no
 * test depends on pixels (job ids and times differ at every run anyway).
 */
export async function screenshot(page: Page, name: string): Promise<void> {
  if (process.env.UPDATE_SCREENSHOTS !== '1') return;
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: false, animations: 'disabled' });
}
